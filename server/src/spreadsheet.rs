//! CSV as Moth writes it (issue lists, the team export, the audit log): every cell made safe to open
//! in a spreadsheet, so that text a user typed never runs there as a formula.

/// A CSV document being written in memory, header first.
/// The properties both issue spreadsheets (a project's list and a team's export) show, in this order.
pub const ISSUE_PROPERTY_COLUMNS: [&str; 6] = ["type", "severity", "priority", "status", "visibility", "reporter"];

pub struct SafeCsv {
    writer: csv::Writer<Vec<u8>>,
}

impl SafeCsv {
    pub fn new(header: &[&str]) -> Result<Self, csv::Error> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(header)?;
        Ok(Self { writer })
    }

    /// Appends a row, each cell through [`cell`].
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> Result<(), csv::Error> {
        self.writer.write_record(cells.into_iter().map(|c| cell(c.as_ref())))
    }

    /// The document's bytes (UTF-8: only `&str` went in).
    pub fn finish(self) -> Result<Vec<u8>, csv::Error> {
        self.writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// A CSV cell that no spreadsheet will run as a formula: a leading `=`, `+`, `-`, `@`, tab or carriage
/// return is neutralised with an apostrophe.
pub fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{cell, SafeCsv};

    #[test]
    fn formulas_are_neutralised() {
        for risky in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(cell("Login fails"), "Login fails");
    }

    #[test]
    fn a_document_holds_its_header_and_safe_rows() {
        let mut csv = SafeCsv::new(&["a", "b"]).expect("header");
        csv.row(["=cmd", "plain, with comma"]).expect("row");
        let text = String::from_utf8(csv.finish().expect("finish")).expect("utf-8");
        assert_eq!(text, "a,b\n'=cmd,\"plain, with comma\"\n");
    }
}
