//! Dates for people: Unix milliseconds shown as UTC calendar dates, or relative ("5 minutes ago") with
//! the local time on hover, with no date library in the bundle.

use leptos::prelude::*;

/// `YYYY-MM-DD` of a Unix time in milliseconds (UTC).
pub fn date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM UTC` of a Unix time in milliseconds.
pub fn date_time(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{} {:02}:{:02} UTC", date(ms), minutes / 60, minutes % 60)
}

/// How long ago `ms` was, seen from `now_ms`, in words: "just now", "5 minutes ago", "yesterday";
/// past a week, the date.
pub fn relative(ms: i64, now_ms: i64) -> String {
    let ago = |n: i64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
    let seconds = (now_ms - ms) / 1000;
    match seconds {
        s if s < 45 => "just now".to_owned(),
        s if s < 3_600 => ago((s + 30) / 60, "minute"),
        s if s < 86_400 => ago(s / 3_600, "hour"),
        s if s < 2 * 86_400 => "yesterday".to_owned(),
        s if s < 7 * 86_400 => ago(s / 86_400, "day"),
        _ => date(ms),
    }
}

/// `YYYY-MM-DD HH:MM` in the reader's time zone, `offset_minutes` east of UTC.
pub fn local_date_time(ms: i64, offset_minutes: i64) -> String {
    let local = ms + offset_minutes * 60_000;
    let minutes = local.div_euclid(60_000).rem_euclid(24 * 60);
    format!("{} {:02}:{:02}", date(local), minutes / 60, minutes % 60)
}

/// The browser's clock and its offset east of UTC in minutes.
#[cfg(feature = "csr")]
fn now_and_offset() -> (i64, i64) {
    #[allow(clippy::cast_possible_truncation)] // milliseconds and minutes fit in i64
    let now = js_sys::Date::now() as i64;
    #[allow(clippy::cast_possible_truncation)]
    let offset = -(js_sys::Date::new_0().get_timezone_offset() as i64);
    (now, offset)
}
#[cfg(not(feature = "csr"))]
fn now_and_offset() -> (i64, i64) {
    (0, 0)
}

/// A moment as people read it: relative, with the local and UTC times on hover, and the exact time
/// for machines in `datetime`.
#[component]
pub fn Moment(ms: i64) -> impl IntoView {
    let (now, offset) = now_and_offset();
    let title = format!("{} (your time), {}", local_date_time(ms, offset), date_time(ms));
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    let iso = format!("{}T{:02}:{:02}Z", date(ms), minutes / 60, minutes % 60);
    view! { <time datetime=iso title=title>{relative(ms, now)}</time> }
}

/// Unix milliseconds of the start (00:00 UTC) of a `YYYY-MM-DD` date, as a date input gives it.
pub fn start_of_date(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400_000)
}

/// The inverse of [`civil_from_days`] (the same author's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(date_time(1_795_331_753_318), "2026-11-22 07:15 UTC");
        assert_eq!(date(-86_400_000), "1969-12-31");
    }

    #[test]
    fn moments_read_as_people_say_them() {
        let now = 1_795_331_753_318;
        assert_eq!(relative(now - 10_000, now), "just now");
        assert_eq!(relative(now - 60_000, now), "1 minute ago");
        assert_eq!(relative(now - 5 * 60_000, now), "5 minutes ago");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 hours ago");
        assert_eq!(relative(now - 30 * 3_600_000, now), "yesterday");
        assert_eq!(relative(now - 4 * 86_400_000, now), "4 days ago");
        assert_eq!(relative(now - 30 * 86_400_000, now), date(now - 30 * 86_400_000));
        assert_eq!(local_date_time(1_795_331_753_318, 60), "2026-11-22 08:15");
        assert_eq!(local_date_time(1_795_331_753_318, -480), "2026-11-21 23:15");
    }

    #[test]
    fn a_date_input_becomes_the_start_of_that_utc_day() {
        for ms in [0, 951_782_400_000, 1_795_305_600_000, -86_400_000] {
            assert_eq!(start_of_date(&date(ms)), Some(ms));
        }
        assert_eq!(start_of_date("2026-13-01"), None);
        assert_eq!(start_of_date("not a date"), None);
    }
}
