//! QR codes as terminal text: two modules per character cell with half blocks.
//!
//! Approvers often confirm a sign-in from their phone; a QR code of
//! `verification_uri_complete` saves typing the user code. The lines are plain strings so
//! the CLI prints them and the console's login dialog draws them as a paragraph.

use qrcode::{Color, EcLevel, QrCode};

/// Quiet zone around the code, in modules (the spec asks for 4; 2 scans fine on screens).
const QUIET: usize = 2;

/// The QR code of `data` as lines of `█ ▀ ▄` and spaces, drawn light-on-dark: light
/// modules are filled, dark modules are blank. Draw it with a light foreground on a dark
/// background (the console sets both colours, so it scans on any terminal theme).
/// Empty when `data` is too long for a QR code.
pub fn qr_lines(data: &str) -> Vec<String> {
    let Ok(code) = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L) else {
        return Vec::new();
    };
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET;
    // Light (filled) everywhere outside the code, per module.
    let light = |x: usize, y: usize| -> bool {
        if x < QUIET || y < QUIET || x >= QUIET + width || y >= QUIET + width {
            return true;
        }
        colors[(y - QUIET) * width + (x - QUIET)] == Color::Light
    };
    (0..size)
        .step_by(2)
        .map(|y| {
            (0..size)
                .map(|x| {
                    let top = light(x, y);
                    let bottom = y + 1 >= size || light(x, y + 1);
                    match (top, bottom) {
                        (true, true) => '█',
                        (true, false) => '▀',
                        (false, true) => '▄',
                        (false, false) => ' ',
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes the half blocks back into modules and checks them against the QR matrix.
    #[test]
    fn lines_encode_the_matrix() {
        let data = "https://id.example/device?user_code=ABCD-EFGH";
        let lines = qr_lines(data);
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::L).unwrap();
        let w = code.width();
        let size = w + 2 * QUIET;
        assert_eq!(lines.len(), size.div_ceil(2));
        for l in &lines {
            assert_eq!(l.chars().count(), size);
        }
        let colors = code.to_colors();
        for y in 0..w {
            for x in 0..w {
                let (row, col) = ((y + QUIET) / 2, x + QUIET);
                let ch = lines[row].chars().nth(col).unwrap();
                let upper = (y + QUIET).is_multiple_of(2);
                let lit = match ch {
                    '█' => true,
                    ' ' => false,
                    '▀' => upper,
                    '▄' => !upper,
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(lit, colors[y * w + x] == Color::Light, "module {x},{y}");
            }
        }
        // The quiet zone is light.
        assert!(lines[0].chars().all(|c| c == '█'));
    }

    #[test]
    fn too_long_is_empty() {
        assert!(qr_lines(&"x".repeat(10_000)).is_empty());
    }
}
