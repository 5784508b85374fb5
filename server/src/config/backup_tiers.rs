//! The `backup_tiers` setting: tiers of "one snapshot every `every`, kept for `keep_for`", read
//! when the configuration is loaded (what they keep is `backup::retention`'s).

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub every: Duration,
    pub keep_for: Duration,
}

/// The default tiers.
pub const DEFAULT: &str = "6h:4d,1d:7d,1w:4w";

/// Parses `every:keep_for,...` with units `m`, `h`, `d`, `w` (such as `6h:4d,1d:7d,1w:4w`).
pub fn parse(text: &str) -> Result<Vec<Tier>, String> {
    let tiers = text
        .split(',')
        .map(|tier| {
            let (every, keep_for) =
                tier.trim().split_once(':').ok_or_else(|| format!("`{tier}` is not every:keep_for, such as 6h:4d"))?;
            Ok(Tier { every: duration(every)?, keep_for: duration(keep_for)? })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if tiers.is_empty() {
        return Err("at least one tier is needed".into());
    }
    Ok(tiers)
}

fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a number and a unit (m, h, d, w)"))?;
    let seconds = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("`{text}`: the unit is one of m, h, d, w")),
    };
    if number == 0 {
        return Err(format!("`{text}` must be more than zero"));
    }
    Ok(Duration::from_secs(number * seconds))
}
