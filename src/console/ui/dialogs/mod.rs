//! The dialogs' views, one file each beside the dialog's state and keys in
//! `console/dialogs/`: approve/deny, the reason prompt, the search prompt, the filter
//! toggles, the blocking notice, help and sign-in.

mod decide;
mod filter;
mod gone;
pub mod help;
pub mod login;
mod reason;
mod search;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use super::{centered, safe_spans};
use crate::console::core::app::{App, Dialog, Level, TextInput};
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;

pub struct DialogView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub dialog: &'a Dialog,
}

const LABEL: usize = 13;

/// A centred modal box.
struct Popup {
    width: u16,
    title: String,
    lines: Vec<Line<'static>>,
    danger: bool,
}

fn input_line(label: &str, input: &TextInput, active: bool, theme: &Theme) -> Line<'static> {
    let value = SafeText::line(&input.value);
    let mut s = vec![Span::styled(format!("{label:<LABEL$}"), theme.muted())];
    let style = if active {
        theme.text().add_modifier(Modifier::UNDERLINED)
    } else {
        theme.text()
    };
    s.push(Span::styled("[", theme.muted()));
    s.extend(safe_spans(&value, style, theme));
    if active {
        s.push(Span::styled("▏", theme.key_hint()));
    }
    s.push(Span::styled("]", theme.muted()));
    Line::from(s)
}

impl DialogView<'_> {
    fn frame(&self, area: Rect, buf: &mut Buffer, popup: Popup) {
        // Height after wrapping, so the last line (the key hints) is never cut off.
        let inner_w = usize::from(popup.width.min(area.width).saturating_sub(2)).max(1);
        let rows: usize = popup
            .lines
            .iter()
            .map(|l| match l.width() {
                // Word wrapping can need one row more than the raw division.
                w if w > inner_w => w.div_ceil(inner_w) + 1,
                _ => 1,
            })
            .sum();
        let r = centered(area, popup.width, rows as u16 + 2);
        Clear.render(r, buf);
        let style = if popup.danger {
            self.theme.level(Level::Error)
        } else {
            self.theme.title(true)
        };
        let block = Block::bordered()
            .border_type(BorderType::Double)
            .border_style(style)
            .title(Span::styled(format!(" {} ", popup.title), style))
            .style(self.theme.base());
        Paragraph::new(popup.lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(r, buf);
    }
}

impl Widget for DialogView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        match self.dialog {
            Dialog::Decide(d) => decide::render(&self, d, area, buf),
            Dialog::Reason(r) => reason::render(&self, r, area, buf),
            Dialog::Search => search::render(&self, area, buf),
            Dialog::Filter(f) => filter::render(&self, f, area, buf),
            Dialog::Gone(n) => gone::render(&self, n, area, buf),
            Dialog::Help(h) => help::HelpView {
                app,
                theme,
                scroll: h.scroll,
            }
            .render(area, buf),
            Dialog::Login(state) => login::LoginView { app, theme, state }.render(area, buf),
        }
    }
}

fn toggle_line(name: &str, on: bool, at: bool, theme: &Theme) -> Line<'static> {
    let mark = if on { "[x] " } else { "[ ] " };
    let style = if at { theme.selection() } else { theme.text() };
    Line::styled(format!(" {mark}{name}"), style)
}
