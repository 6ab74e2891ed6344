//! Renders a ratatui [`Buffer`] to SVG, so screenshots come from the real views.
//!
//! One `<rect>` per run of same-background cells and one `<text>` per run of same-styled
//! cells, each positioned on the cell grid so columns line up whatever the font.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// Geometry of the rendered grid, in pixels.
const CELL_W: f32 = 8.4;
const CELL_H: f32 = 18.0;
const FONT_SIZE: f32 = 14.0;
const PAD: f32 = 10.0;

/// The colours `Color::Reset` stands for, and the 16 ANSI colours.
#[derive(Debug, Clone)]
pub struct Palette {
    pub fg: (u8, u8, u8),
    pub bg: (u8, u8, u8),
    pub ansi: [(u8, u8, u8); 16],
}

impl Palette {
    /// A dark terminal (the xterm defaults, slightly softened).
    pub fn dark() -> Self {
        Self {
            fg: (0xd8, 0xde, 0xe9),
            bg: (0x1e, 0x22, 0x2a),
            ansi: XTERM_16,
        }
    }

    /// A light terminal.
    pub fn light() -> Self {
        Self {
            fg: (0x1f, 0x23, 0x28),
            bg: (0xfa, 0xfa, 0xfa),
            ansi: XTERM_16,
        }
    }
}

const XTERM_16: [(u8, u8, u8); 16] = [
    (0x00, 0x00, 0x00),
    (0xcd, 0x31, 0x31),
    (0x0d, 0xbc, 0x79),
    (0xe5, 0xe5, 0x10),
    (0x24, 0x72, 0xc8),
    (0xbc, 0x3f, 0xbc),
    (0x11, 0xa8, 0xcd),
    (0xe5, 0xe5, 0xe5),
    (0x66, 0x66, 0x66),
    (0xf1, 0x4c, 0x4c),
    (0x23, 0xd1, 0x8b),
    (0xf5, 0xf5, 0x43),
    (0x3b, 0x8e, 0xea),
    (0xd6, 0x70, 0xd6),
    (0x29, 0xb8, 0xdb),
    (0xff, 0xff, 0xff),
];

fn indexed(p: &Palette, i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => p.ansi[i as usize],
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

fn rgb(p: &Palette, c: Color, default: (u8, u8, u8)) -> (u8, u8, u8) {
    match c {
        Color::Reset => default,
        Color::Black => p.ansi[0],
        Color::Red => p.ansi[1],
        Color::Green => p.ansi[2],
        Color::Yellow => p.ansi[3],
        Color::Blue => p.ansi[4],
        Color::Magenta => p.ansi[5],
        Color::Cyan => p.ansi[6],
        Color::Gray => p.ansi[7],
        Color::DarkGray => p.ansi[8],
        Color::LightRed => p.ansi[9],
        Color::LightGreen => p.ansi[10],
        Color::LightYellow => p.ansi[11],
        Color::LightBlue => p.ansi[12],
        Color::LightMagenta => p.ansi[13],
        Color::LightCyan => p.ansi[14],
        Color::White => p.ansi[15],
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => indexed(p, i),
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Control characters are not valid in XML; the views never emit them, but a
            // screenshot must not become an invalid file if one slips through.
            c if (c as u32) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// The resolved look of one cell.
#[derive(PartialEq, Clone)]
struct Look {
    fg: (u8, u8, u8),
    bg: (u8, u8, u8),
    bold: bool,
    italic: bool,
    underline: bool,
    dim: bool,
}

fn look(p: &Palette, cell: &ratatui::buffer::Cell) -> Look {
    let m = cell.modifier;
    let (mut fg, mut bg) = (rgb(p, cell.fg, p.fg), rgb(p, cell.bg, p.bg));
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    Look {
        fg,
        bg,
        bold: m.contains(Modifier::BOLD),
        italic: m.contains(Modifier::ITALIC),
        underline: m.contains(Modifier::UNDERLINED),
        dim: m.contains(Modifier::DIM),
    }
}

/// Renders the whole buffer as a standalone SVG document with a title.
pub fn buffer_to_svg(buf: &Buffer, palette: &Palette, title: &str) -> String {
    let area = buf.area;
    let width = area.width as f32 * CELL_W + 2.0 * PAD;
    let height = area.height as f32 * CELL_H + 2.0 * PAD;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"'DejaVu Sans Mono', Menlo, \
         Consolas, monospace\" font-size=\"{FONT_SIZE}\">\n<title>"
    );
    escape(title, &mut out);
    let _ = writeln!(
        out,
        "</title>\n<rect width=\"100%\" height=\"100%\" rx=\"6\" fill=\"{}\"/>",
        hex(palette.bg)
    );
    for y in 0..area.height {
        let row: Vec<(String, Look)> = (0..area.width)
            .map(|x| {
                let cell = &buf[(area.x + x, area.y + y)];
                (cell.symbol().to_string(), look(palette, cell))
            })
            .collect();
        let top = PAD + y as f32 * CELL_H;
        // Backgrounds: runs of equal colour that differ from the page.
        let mut x = 0;
        while x < row.len() {
            let bg = row[x].1.bg;
            let start = x;
            while x < row.len() && row[x].1.bg == bg {
                x += 1;
            }
            if bg != palette.bg {
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{CELL_H}\" fill=\"{}\"/>",
                    PAD + start as f32 * CELL_W,
                    (x - start) as f32 * CELL_W,
                    hex(bg)
                );
            }
        }
        // Text: runs of equal look; blanks end a run so positions stay on the grid.
        let baseline = top + CELL_H * 0.75;
        let mut x = 0;
        while x < row.len() {
            if row[x].0.trim().is_empty() {
                x += 1;
                continue;
            }
            let start = x;
            let mut text = String::new();
            while x < row.len() && row[x].1 == row[start].1 && !row[x].0.trim().is_empty() {
                text.push_str(&row[x].0);
                x += 1;
                // A wide glyph occupies the next cell too, which holds an empty symbol.
                while x < row.len() && row[x].0.is_empty() {
                    x += 1;
                }
            }
            let l = &row[start].1;
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{baseline:.1}\" fill=\"{}\"{}{}{}{} xml:space=\"preserve\">",
                PAD + start as f32 * CELL_W,
                hex(l.fg),
                if l.bold { " font-weight=\"bold\"" } else { "" },
                if l.italic {
                    " font-style=\"italic\""
                } else {
                    ""
                },
                if l.underline {
                    " text-decoration=\"underline\""
                } else {
                    ""
                },
                if l.dim { " opacity=\"0.6\"" } else { "" },
            );
            escape(&text, &mut out);
            out.push_str("</text>\n");
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    use super::*;

    #[test]
    fn renders_runs_with_colours_and_escapes() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
        buf.set_string(0, 0, "a<b", Style::default().fg(Color::Red));
        buf.set_string(
            5,
            1,
            "ok",
            Style::default()
                .bg(Color::Rgb(1, 2, 3))
                .add_modifier(Modifier::BOLD),
        );
        let svg = buffer_to_svg(&buf, &Palette::dark(), "t & t");
        assert!(svg.contains("<title>t &amp; t</title>"));
        assert!(svg.contains(">a&lt;b</text>"));
        assert!(svg.contains("fill=\"#cd3131\""));
        assert!(svg.contains("fill=\"#010203\""));
        assert!(svg.contains("font-weight=\"bold\""));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn indexed_colours_follow_xterm() {
        let p = Palette::dark();
        assert_eq!(indexed(&p, 196), (255, 0, 0));
        assert_eq!(indexed(&p, 232), (8, 8, 8));
    }
}
