//! Generated hostile strings for property tests: printable text mixed with C0/C1
//! controls, complete and unterminated CSI/OSC/DCS/APC sequences, bidi controls,
//! zero-width and default-ignorable code points, combining marks, wide and
//! ambiguous-width characters, and the visible form's own syntax.

use proptest::prelude::*;

fn fragment() -> impl Strategy<Value = String> {
    let word = "[a-zA-Z0-9 ;:/._=-]{1,12}";
    let one_of = |cs: &'static [char]| proptest::sample::select(cs).prop_map(String::from);
    prop_oneof![
        4 => word.prop_map(String::from),
        1 => one_of(&['\u{0}', '\u{7}', '\u{8}', '\t', '\n', '\r', '\u{b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{9c}', '\u{9d}']),
        1 => "[0-9;]{0,70}[A-Za-z]?".prop_map(|p| format!("\u{1b}[{p}")),
        1 => "[a-z0-9; ]{0,60}".prop_flat_map(|b| {
            proptest::sample::select(vec!["\u{7}", "\u{1b}\\", ""])
                .prop_map(move |t| format!("\u{1b}]0;{b}{t}"))
        }),
        1 => "[a-z0-9]{0,20}".prop_map(|b| format!("\u{1b}P{b}\u{1b}\\")),
        1 => "[a-z0-9]{0,20}".prop_map(|b| format!("\u{1b}_{b}")),
        1 => one_of(&['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}']),
        1 => one_of(&['\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}', '\u{34f}', '\u{fe0f}', '\u{E0100}', '\u{17b4}', '\u{3164}', '\u{ffa0}', '\u{2800}', '\u{fff9}', '\u{1d173}', '\u{E0041}', '\u{E007F}', '\u{2028}', '\u{2029}', '\u{a0}', '\u{3000}']),
        1 => one_of(&['\u{301}', '\u{302}', '\u{20e3}', '\u{93e}', '\u{1161}', '\u{1f1e6}', '\u{1f3fb}', '\u{e000}', '\u{10ffff}']),
        1 => one_of(&['日', '本', '😀', '👍', 'é', 'α', 'ж', '…', '·', '→', '⟨', '⟩', '⇥']),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// A string of up to `max` fragments.
pub fn hostile(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(), 0..max).prop_map(|v| v.concat())
}
