//! Box-drawing and block characters as vector shapes on the cell grid.
//!
//! A font draws `│` or `█` inside its own line height, which leaves gaps between rows
//! and seams between cells; a terminal draws them edge to edge. Drawing them as lines
//! and rectangles makes borders continuous and QR codes scannable in the screenshots.

/// How a cell's glyph is drawn when it is not text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Box drawing: arms from the cell centre to its edges.
    Lines(Arms),
    /// A quarter circle joining two arms (`╭ ╮ ╰ ╯`): (right or left, down or up).
    Arc { right: bool, down: bool },
    /// Double lines: a straight piece or a corner.
    Double(Double),
    /// A filled part of the cell, in cell fractions (x, y, w, h), at an opacity.
    Block {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        opacity: f32,
    },
}

/// Arm weights (0 none, 1 light, 2 heavy) in the order up, right, down, left.
pub type Arms = [u8; 4];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Double {
    Horizontal,
    Vertical,
    /// A corner: (opens to the right, opens downwards).
    Corner {
        right: bool,
        down: bool,
    },
}

/// The shape of `symbol`, or `None` to draw it as text.
pub fn shape(symbol: &str) -> Option<Shape> {
    let mut chars = symbol.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    arms(c)
        .map(Shape::Lines)
        .or_else(|| arc(c))
        .or_else(|| double(c).map(Shape::Double))
        .or_else(|| block(c))
}

fn arms(c: char) -> Option<Arms> {
    Some(match c {
        '─' => [0, 1, 0, 1],
        '│' => [1, 0, 1, 0],
        '┌' => [0, 1, 1, 0],
        '┐' => [0, 0, 1, 1],
        '└' => [1, 1, 0, 0],
        '┘' => [1, 0, 0, 1],
        '├' => [1, 1, 1, 0],
        '┤' => [1, 0, 1, 1],
        '┬' => [0, 1, 1, 1],
        '┴' => [1, 1, 0, 1],
        '┼' => [1, 1, 1, 1],
        '━' => [0, 2, 0, 2],
        '┃' => [2, 0, 2, 0],
        '┏' => [0, 2, 2, 0],
        '┓' => [0, 0, 2, 2],
        '┗' => [2, 2, 0, 0],
        '┛' => [2, 0, 0, 2],
        '┣' => [2, 2, 2, 0],
        '┫' => [2, 0, 2, 2],
        '┳' => [0, 2, 2, 2],
        '┻' => [2, 2, 0, 2],
        '╋' => [2, 2, 2, 2],
        '╴' => [0, 0, 0, 1],
        '╶' => [0, 1, 0, 0],
        _ => return None,
    })
}

fn arc(c: char) -> Option<Shape> {
    let (right, down) = match c {
        '╭' => (true, true),
        '╮' => (false, true),
        '╰' => (true, false),
        '╯' => (false, false),
        _ => return None,
    };
    Some(Shape::Arc { right, down })
}

fn double(c: char) -> Option<Double> {
    Some(match c {
        '═' => Double::Horizontal,
        '║' => Double::Vertical,
        '╔' => Double::Corner {
            right: true,
            down: true,
        },
        '╗' => Double::Corner {
            right: false,
            down: true,
        },
        '╚' => Double::Corner {
            right: true,
            down: false,
        },
        '╝' => Double::Corner {
            right: false,
            down: false,
        },
        _ => return None,
    })
}

fn block(c: char) -> Option<Shape> {
    let full = |x, y, w, h| Shape::Block {
        x,
        y,
        w,
        h,
        opacity: 1.0,
    };
    let shade = |opacity| Shape::Block {
        x: 0.0,
        y: 0.0,
        w: 1.0,
        h: 1.0,
        opacity,
    };
    Some(match c {
        '█' => full(0.0, 0.0, 1.0, 1.0),
        '▀' => full(0.0, 0.0, 1.0, 0.5),
        '▄' => full(0.0, 0.5, 1.0, 0.5),
        '▌' => full(0.0, 0.0, 0.5, 1.0),
        '▐' => full(0.5, 0.0, 0.5, 1.0),
        '▏' => full(0.0, 0.0, 0.125, 1.0),
        '▁' => full(0.0, 0.875, 1.0, 0.125),
        '▔' => full(0.0, 0.0, 1.0, 0.125),
        '░' => shade(0.25),
        '▒' => shade(0.5),
        '▓' => shade(0.75),
        _ => return None,
    })
}

/// SVG path data for a line shape in the cell at (`x`, `y`) of size `w`×`h`, pixels.
/// `gap` is half the distance between the two strokes of a double line.
pub fn path(s: Shape, x: f32, y: f32, w: f32, h: f32, gap: f32) -> String {
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let (r, b) = (x + w, y + h);
    match s {
        Shape::Lines(a) => {
            let ends = [(cx, y), (r, cy), (cx, b), (x, cy)];
            let mut d = String::new();
            for (weight, (ex, ey)) in a.iter().zip(ends) {
                if *weight > 0 {
                    d.push_str(&format!("M{cx:.1} {cy:.1}L{ex:.1} {ey:.1}"));
                }
            }
            d
        }
        Shape::Arc { right, down } => {
            let (ex, ey) = (if right { r } else { x }, if down { b } else { y });
            format!("M{ex:.1} {cy:.1}Q{cx:.1} {cy:.1} {cx:.1} {ey:.1}")
        }
        Shape::Double(Double::Horizontal) => format!(
            "M{x:.1} {:.1}H{r:.1}M{x:.1} {:.1}H{r:.1}",
            cy - gap,
            cy + gap
        ),
        Shape::Double(Double::Vertical) => format!(
            "M{:.1} {y:.1}V{b:.1}M{:.1} {y:.1}V{b:.1}",
            cx - gap,
            cx + gap
        ),
        Shape::Double(Double::Corner { right, down }) => {
            // The outer stroke turns on the far side of the centre, the inner one on the
            // near side, so the two strokes never cross.
            let ex = if right { r } else { x };
            let ey = if down { b } else { y };
            let sx = if right { 1.0 } else { -1.0 };
            let sy = if down { 1.0 } else { -1.0 };
            let (ox, oy) = (cx - sx * gap, cy - sy * gap);
            let (ix, iy) = (cx + sx * gap, cy + sy * gap);
            format!("M{ex:.1} {oy:.1}H{ox:.1}V{ey:.1}M{ex:.1} {iy:.1}H{ix:.1}V{ey:.1}")
        }
        Shape::Block { .. } => String::new(),
    }
}

/// Stroke width class of a line shape: 2 for heavy, 1 otherwise.
pub fn weight(s: Shape) -> u8 {
    match s {
        Shape::Lines(a) => a.iter().copied().max().unwrap_or(1).max(1),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borders_blocks_and_text_are_told_apart() {
        assert_eq!(shape("┏"), Some(Shape::Lines([0, 2, 2, 0])));
        assert!(matches!(shape("╔"), Some(Shape::Double(_))));
        assert!(matches!(shape("╭"), Some(Shape::Arc { .. })));
        assert!(matches!(shape("▀"), Some(Shape::Block { h: 0.5, .. })));
        assert_eq!(shape("a"), None);
        assert_eq!(shape("─a"), None);
        assert_eq!(shape(""), None);
    }

    #[test]
    fn a_corner_reaches_the_edges_it_opens_to() {
        let d = path(Shape::Lines([0, 1, 1, 0]), 0.0, 0.0, 10.0, 20.0, 1.0);
        assert_eq!(d, "M5.0 10.0L10.0 10.0M5.0 10.0L5.0 20.0");
        let d = path(
            Shape::Double(Double::Corner {
                right: true,
                down: true,
            }),
            0.0,
            0.0,
            10.0,
            20.0,
            1.0,
        );
        assert_eq!(d, "M10.0 9.0H4.0V20.0M10.0 11.0H6.0V20.0");
    }
}
