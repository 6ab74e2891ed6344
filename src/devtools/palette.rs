//! Terminal colours for screenshots: what `Color::Reset` and the 16 ANSI colours stand
//! for, since a buffer names colours the terminal resolves.

use ratatui::style::Color;

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

pub(crate) fn indexed(p: &Palette, i: u8) -> (u8, u8, u8) {
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

pub(crate) fn rgb(p: &Palette, c: Color, default: (u8, u8, u8)) -> (u8, u8, u8) {
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

pub(crate) fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_colours_follow_xterm() {
        let p = Palette::dark();
        assert_eq!(indexed(&p, 196), (255, 0, 0));
        assert_eq!(indexed(&p, 232), (8, 8, 8));
    }
}
