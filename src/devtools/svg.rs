//! Renders a ratatui [`Buffer`] to SVG, so screenshots come from the real views.
//!
//! Everything sits on the cell grid: backgrounds are rectangles, box-drawing and block
//! characters are vector shapes (see [`super::glyphs`]), and every character of a text
//! run carries its own x position, so columns line up whatever font the viewer has.
//! Underlines are drawn as rectangles because SVG renderers disagree on
//! `text-decoration`. A window-like frame with the title sits around the grid.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::Modifier;

use super::glyphs::{self, Shape};
pub use super::palette::Palette;
use super::palette::{hex, rgb};

/// Geometry of the grid and the frame, in pixels.
const CELL_W: f32 = 8.4;
const CELL_H: f32 = 18.0;
const FONT_SIZE: f32 = 14.0;
const PAD: f32 = 12.0;
const BAR: f32 = 30.0;
const FONT: &str =
    "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, 'Liberation Mono', monospace";
/// Stroke widths for light and heavy lines, and half the gap of a double line.
const LIGHT: f32 = 1.2;
const HEAVY: f32 = 2.6;
const DOUBLE_GAP: f32 = 1.8;

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Control characters are not valid in XML; the views never emit them, but a
            // screenshot must not become an invalid file if one slips through.
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// Colour, weight class and dimness of a stroke: cells sharing it share one `<path>`.
type StrokeKey = ((u8, u8, u8), u8, bool);

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

fn look(p: &Palette, cell: &Cell) -> Look {
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

/// One cell, ready to draw.
struct Glyph {
    symbol: String,
    look: Look,
    shape: Option<Shape>,
}

impl Glyph {
    fn blank(&self) -> bool {
        self.symbol.trim().is_empty()
    }

    fn text(&self) -> bool {
        !self.blank() && self.shape.is_none()
    }
}

fn cell_x(col: usize) -> f32 {
    PAD + col as f32 * CELL_W
}

fn opacity(dim: bool) -> &'static str {
    if dim { " opacity=\"0.6\"" } else { "" }
}

/// Runs of consecutive cells for which `key` gives the same `Some` value.
fn runs<K: PartialEq>(row: &[Glyph], key: impl Fn(&Glyph) -> Option<K>) -> Vec<(usize, usize, K)> {
    let mut out = Vec::new();
    let mut x = 0;
    while x < row.len() {
        let Some(k) = key(&row[x]) else {
            x += 1;
            continue;
        };
        let start = x;
        x += 1;
        while x < row.len() && key(&row[x]).as_ref() == Some(&k) {
            x += 1;
        }
        out.push((start, x, k));
    }
    out
}

fn rect(out: &mut String, x: f32, y: f32, w: f32, h: f32, fill: (u8, u8, u8), extra: &str) {
    let _ = writeln!(
        out,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"{extra}/>",
        hex(fill)
    );
}

fn row_backgrounds(out: &mut String, row: &[Glyph], top: f32, page: (u8, u8, u8)) {
    for (a, b, bg) in runs(row, |g| Some(g.look.bg).filter(|bg| *bg != page)) {
        let w = (b - a) as f32 * CELL_W;
        rect(out, cell_x(a), top, w, CELL_H, bg, "");
    }
}

fn row_shapes(out: &mut String, row: &[Glyph], top: f32) {
    // Blocks: merged runs of the same block in the same colour (QR codes are rows of them).
    let block_key = |g: &Glyph| match g.shape {
        Some(s @ Shape::Block { .. }) => Some((s, g.look.fg, g.look.dim)),
        _ => None,
    };
    for (a, b, (s, fg, dim)) in runs(row, block_key) {
        if let Shape::Block {
            x,
            y,
            w,
            h,
            opacity: o,
        } = s
        {
            let n = (b - a) as f32;
            let extra = match (o < 1.0, dim) {
                (true, _) => format!(" opacity=\"{o}\""),
                (false, d) => opacity(d).to_string(),
            };
            // A partial block repeats per cell; a full-width one spans the run.
            if w >= 1.0 {
                rect(
                    out,
                    cell_x(a),
                    top + y * CELL_H,
                    n * CELL_W,
                    h * CELL_H,
                    fg,
                    &extra,
                );
            } else {
                for c in a..b {
                    let left = cell_x(c) + x * CELL_W;
                    rect(
                        out,
                        left,
                        top + y * CELL_H,
                        w * CELL_W,
                        h * CELL_H,
                        fg,
                        &extra,
                    );
                }
            }
        }
    }
    // Lines: one path per colour and weight.
    let mut paths: BTreeMap<StrokeKey, String> = BTreeMap::new();
    for (col, g) in row.iter().enumerate() {
        let Some(s) = g.shape.filter(|s| !matches!(s, Shape::Block { .. })) else {
            continue;
        };
        let d = glyphs::path(s, cell_x(col), top, CELL_W, CELL_H, DOUBLE_GAP);
        let key = (g.look.fg, glyphs::weight(s), g.look.dim);
        paths.entry(key).or_default().push_str(&d);
    }
    for ((fg, weight, dim), d) in paths {
        let width = if weight > 1 { HEAVY } else { LIGHT };
        let _ = writeln!(
            out,
            "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"{width}\"{}/>",
            hex(fg),
            opacity(dim)
        );
    }
}

fn row_text(out: &mut String, row: &[Glyph], top: f32) {
    let baseline = top + CELL_H * 0.72;
    // A wide glyph's continuation cell holds an empty symbol: it stays in the run, and
    // positions skip it.
    let key = |g: &Glyph| (g.text() || g.symbol.is_empty()).then(|| g.look.clone());
    for (a, b, l) in runs(row, key) {
        let cells: Vec<usize> = (a..b).filter(|c| !row[*c].symbol.is_empty()).collect();
        if cells.is_empty() {
            continue;
        }
        let mut xs = String::new();
        let mut text = String::new();
        for c in cells {
            for _ in row[c].symbol.chars() {
                let _ = write!(
                    xs,
                    "{}{:.1}",
                    if xs.is_empty() { "" } else { " " },
                    cell_x(c)
                );
            }
            text.push_str(&row[c].symbol);
        }
        let _ = write!(
            out,
            "<text x=\"{xs}\" y=\"{baseline:.1}\" fill=\"{}\"{}{}{}>",
            hex(l.fg),
            if l.bold { " font-weight=\"bold\"" } else { "" },
            if l.italic {
                " font-style=\"italic\""
            } else {
                ""
            },
            opacity(l.dim),
        );
        escape(&text, out);
        out.push_str("</text>\n");
    }
    for (a, b, (fg, dim)) in runs(row, |g| g.look.underline.then_some((g.look.fg, g.look.dim))) {
        let w = (b - a) as f32 * CELL_W;
        rect(out, cell_x(a), baseline + 2.5, w, 1.0, fg, opacity(dim));
    }
}

/// A colour between `a` and `b`, `t` of the way to `b`.
fn mix(a: (u8, u8, u8), b: (u8, u8, u8), t: f32) -> (u8, u8, u8) {
    let m = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    (m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

fn frame(out: &mut String, width: f32, palette: &Palette, title: &str) {
    let bar = mix(palette.bg, palette.fg, 0.08);
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" rx=\"8\" fill=\"{}\" stroke=\"{}\"/>",
        hex(palette.bg),
        hex(mix(palette.bg, palette.fg, 0.2))
    );
    let _ = writeln!(
        out,
        "<path d=\"M0 {BAR}V8A8 8 0 0 1 8 0H{:.0}A8 8 0 0 1 {width:.0} 8V{BAR}Z\" fill=\"{}\"/>",
        width - 8.0,
        hex(bar)
    );
    for (i, c) in ["#ff5f57", "#febc2e", "#28c840"].iter().enumerate() {
        let _ = writeln!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{c}\"/>",
            20 + i * 20,
            BAR / 2.0
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{}\">",
        width / 2.0,
        BAR / 2.0 + 4.0,
        hex(mix(palette.fg, palette.bg, 0.35))
    );
    escape(title, out);
    out.push_str("</text>\n");
}

/// Renders the whole buffer as a standalone SVG document in a window frame titled `title`.
pub fn buffer_to_svg(buf: &Buffer, palette: &Palette, title: &str) -> String {
    let area = buf.area;
    let width = area.width as f32 * CELL_W + 2.0 * PAD;
    let height = BAR + area.height as f32 * CELL_H + 2.0 * PAD;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"{FONT}\" font-size=\"{FONT_SIZE}\">\n<title>"
    );
    escape(title, &mut out);
    out.push_str("</title>\n");
    frame(&mut out, width, palette, title);
    let _ = writeln!(
        out,
        "<g transform=\"translate(0 {:.0})\" shape-rendering=\"crispEdges\" \
         stroke-linecap=\"square\" fill=\"none\">",
        BAR
    );
    for y in 0..area.height {
        let row: Vec<Glyph> = (0..area.width)
            .map(|x| {
                let cell = &buf[(area.x + x, area.y + y)];
                Glyph {
                    symbol: cell.symbol().to_string(),
                    look: look(palette, cell),
                    shape: glyphs::shape(cell.symbol()),
                }
            })
            .collect();
        let top = PAD + y as f32 * CELL_H;
        row_backgrounds(&mut out, &row, top, palette.bg);
        row_shapes(&mut out, &row, top);
        row_text(&mut out, &row, top);
    }
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

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
    fn every_character_sits_on_its_cell_and_wide_ones_take_two() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        buf.set_string(0, 0, "a界b", Style::default());
        let svg = buffer_to_svg(&buf, &Palette::dark(), "w");
        // `界` takes columns 1 and 2, so `b` lands on column 3 (x = 12 + 3 × 8.4).
        assert!(svg.contains("<text x=\"12.0 20.4\""), "{svg}");
        assert!(svg.contains(">a界</text>"), "{svg}");
        assert!(
            svg.contains("<text x=\"37.2\" y=\"25.0\" fill=\"#d8dee9\">b</text>"),
            "{svg}"
        );
    }

    #[test]
    fn borders_are_paths_and_underlines_are_rectangles() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        buf.set_string(0, 0, "┏━", Style::default());
        buf.set_string(
            3,
            0,
            "ab",
            Style::default().add_modifier(Modifier::UNDERLINED),
        );
        let svg = buffer_to_svg(&buf, &Palette::dark(), "b");
        assert!(svg.contains("<path d=\"M16.2 21.0L20.4 21.0"), "{svg}");
        assert!(svg.contains("stroke-width=\"2.6\""));
        assert!(!svg.contains(">┏"), "box drawing is not text");
        assert!(
            svg.contains("<rect x=\"37.2\" y=\"27.5\" width=\"16.8\" height=\"1.0\""),
            "{svg}"
        );
    }
}
