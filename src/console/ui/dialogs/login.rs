//! The sign-in dialog: the device-flow code and where to enter it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::console::core::app::{App, Level};
use crate::console::dialogs::login::LoginState;
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;
use crate::console::ui::{centered, duration};

pub struct LoginView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub state: &'a LoginState,
}

impl Widget for LoginView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        // The issuer's strings are untrusted too.
        let safe = |s: &str| SafeText::line(s).plain();
        let mut lines = Vec::new();
        match self.state {
            LoginState::Starting { ended } => {
                match ended {
                    Some(r) => lines.push(Line::styled(safe(r), theme.level(Level::Warn))),
                    None => lines.push(Line::styled(
                        "Not signed in on this device yet.",
                        theme.text(),
                    )),
                }
                lines.push(Line::styled(
                    "Asking the identity provider for a sign-in code…",
                    theme.muted(),
                ));
            }
            LoginState::Waiting { auth: d, ended } => {
                // Why the session ended stays on screen while the approver signs in again.
                match ended {
                    Some(r) => {
                        lines.push(Line::styled(safe(r), theme.level(Level::Warn)));
                        lines.push(Line::styled("Sign in to keep approving.", theme.text()));
                    }
                    None => lines.push(Line::styled("Sign in to start approving.", theme.text())),
                }
                lines.push(Line::raw(""));
                lines.push(Line::from(vec![
                    Span::styled("Open    ", theme.muted()),
                    Span::styled(safe(&d.verification_uri), theme.title(false)),
                ]));
                lines.push(Line::from(vec![
                    Span::styled("Code    ", theme.muted()),
                    Span::styled(safe(&d.user_code), theme.key_hint()),
                ]));
                if let Some(left) = self.state.secs_left(self.app.now) {
                    lines.push(Line::styled(
                        format!("Expires in {}", duration(left * 1000)),
                        theme.muted(),
                    ));
                }
                // The QR code only when it fits whole (a cut one does not scan).
                let qr_width = d.qr.first().map_or(0, |r| r.chars().count());
                let fits = lines.len() + d.qr.len() + 3 <= usize::from(area.height)
                    && qr_width + 2 <= usize::from(area.width.min(72));
                if !d.qr.is_empty() && fits {
                    lines.push(Line::raw(""));
                    for row in &d.qr {
                        lines.push(Line::styled(safe(row), theme.text()));
                    }
                }
            }
            LoginState::Failed { reason, ended } => {
                if let Some(r) = ended {
                    lines.push(Line::styled(safe(r), theme.level(Level::Warn)));
                }
                lines.push(Line::styled(
                    format!("Sign-in failed: {}", safe(reason)),
                    theme.level(Level::Error),
                ));
                lines.push(Line::raw(""));
                lines.push(Line::from(vec![
                    Span::styled("Enter", theme.key_hint()),
                    Span::styled(" try again  ", theme.muted()),
                    Span::styled("Esc", theme.key_hint()),
                    Span::styled(" close", theme.muted()),
                ]));
            }
        }
        // Tall enough for the wrapped lines, so a long reason never hides the key hints.
        let inner = usize::from(area.width.min(72).saturating_sub(2)).max(1);
        // Word wrap can need a row more than the character count says.
        let rows: usize = lines
            .iter()
            .map(|l| match l.width() {
                w if w <= inner => 1,
                w => w.div_ceil(inner) + 1,
            })
            .sum();
        let h = u16::try_from(rows + 2).unwrap_or(u16::MAX);
        let r = centered(area, 72, h);
        Clear.render(r, buf);
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(
                Block::bordered()
                    .border_type(BorderType::Double)
                    .border_style(theme.border(true))
                    .title(Span::styled(" Sign in ", theme.title(true)))
                    .style(theme.base()),
            )
            .render(r, buf);
    }
}
