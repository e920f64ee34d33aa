//! A minimal, valid one-page PDF (PDF 1.4, Helvetica, uncompressed) for the simulated
//! cloud print: each line of text drawn top-down, with a correct cross-reference table so
//! any PDF reader opens it. Characters outside printable ASCII are written as `?` (the
//! standard Type 1 fonts have no CJK glyphs).

/// Render `lines` on one 100 × 150 mm page (283 × 425 pt).
pub fn render(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT /F1 11 Tf 14 TL 20 400 Td\n");
    for line in lines {
        content.push_str(&format!("({}) Tj T*\n", escape(line)));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 283 425] \
         /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        table.push_str(&format!("{o:010} 00000 n \n"));
    }
    out.extend_from_slice(table.as_bytes());
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A PDF literal string body: printable ASCII, with `\`, `(` and `)` escaped.
fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\\' | '(' | ')' => format!("\\{c}"),
            ' '..='~' => c.to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The document starts with the PDF header, ends with %%EOF, carries the text, and its
    // startxref points at the xref table whose entries point at each object.
    #[test]
    fn renders_a_well_formed_pdf() {
        let pdf = render(&["SF1440000000001".into(), "To: Ann (Hangzhou)".into()]);
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4\n") && text.ends_with("%%EOF\n"));
        assert!(text.contains("(SF1440000000001) Tj"));
        assert!(text.contains("(To: Ann \\(Hangzhou\\)) Tj"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref\n0 6\n"));
        for (i, line) in text[start..].lines().skip(3).take(5).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(
                text[off..].starts_with(&format!("{} 0 obj", i + 1)),
                "{line}"
            );
        }
        assert_eq!(escape("杭州"), "??");
    }
}
