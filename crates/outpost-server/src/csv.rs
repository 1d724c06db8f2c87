//! CSV output (RFC 4180) for spreadsheet users. A cell that starts with `=`, `+`, `-` or `@`
//! gets a leading apostrophe, so a spreadsheet shows it as text instead of running it as a
//! formula.

/// Formats one row, quoting cells that need it and neutralising formula cells.
pub fn row(cells: &[&str]) -> String {
    let formatted: Vec<String> = cells.iter().map(|cell| cell_text(cell)).collect();
    format!("{}\r\n", formatted.join(","))
}

fn cell_text(cell: &str) -> String {
    let neutral = if cell.starts_with(['=', '+', '-', '@']) { format!("'{cell}") } else { cell.to_owned() };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(row(&["=SUM(A1)", "+1", "-2", "@cmd", "plain"]), "'=SUM(A1),'+1,'-2,'@cmd,plain\r\n");
    }

    #[test]
    fn commas_and_quotes_are_quoted() {
        assert_eq!(row(&["a,b", "say \"hi\""]), "\"a,b\",\"say \"\"hi\"\"\"\r\n");
    }

    #[test]
    fn neutralised_cell_with_comma_is_quoted() {
        assert_eq!(row(&["=1,2"]), "\"'=1,2\"\r\n");
    }
}
