//! Dialogs over the queue: approve/deny confirmation, the reason prompt, the search
//! prompt and the filter toggles.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use super::{centered, safe_spans};
use crate::console::core::app::{App, DecideDialog, Dialog, Field, Level, TextInput};
use crate::console::core::quorum::{AfterVote, after_vote};
use crate::console::dialogs::gone::{GoneNotice, Why};
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;
use crate::protocol::{RiskLevel, Verdict};

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

    fn decide(&self, d: &DecideDialog, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let Some(e) = app.queue.entries.get(&d.action_id) else {
            return;
        };
        let v = e.view();
        let field = |label: &str, spans: Vec<Span<'static>>| {
            let mut s = vec![Span::styled(format!("{label:<LABEL$}"), theme.muted())];
            s.extend(spans);
            Line::from(s)
        };
        let text = theme.text();
        let verb = match d.verdict {
            Verdict::Approve => "Approve",
            Verdict::Deny => "Deny",
        };
        let mut lines = vec![
            field("Kind", safe_spans(&v.kind, text, theme)),
            field(
                "Target",
                safe_spans(
                    &SafeText::join(&[&v.system, &SafeText::trusted(" / "), &v.resource]),
                    text.add_modifier(Modifier::BOLD),
                    theme,
                ),
            ),
            field(
                "Environment",
                safe_spans(&v.environment, theme.risk(v.risk), theme),
            ),
            field(
                "Risk",
                vec![
                    Span::styled(
                        format!(" {} ", v.risk.as_str().to_uppercase()),
                        theme.risk_badge(v.risk),
                    ),
                    Span::styled(
                        if v.tags.is_empty() {
                            format!(" score {} · no tags", v.score)
                        } else {
                            format!(
                                " score {} · {}",
                                v.score,
                                v.tags
                                    .iter()
                                    .map(|t| t.label.plain())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                        text,
                    ),
                ],
            ),
        ];
        let quorum = match after_vote(v.approvals, v.required, d.verdict) {
            AfterVote::Completes => format!(
                "{}/{} · your approval completes the quorum",
                v.approvals, v.required
            ),
            AfterVote::Needs { after } => format!(
                "{}/{} · your approval makes {after}/{}; more approvers needed",
                v.approvals, v.required, v.required
            ),
            AfterVote::DenyIsFinal => {
                format!("{}/{} · one deny is final", v.approvals, v.required)
            }
        };
        lines.push(field("Quorum", vec![Span::styled(quorum, text)]));
        if d.verdict == Verdict::Approve
            && let Some(lookalike) = app.names_me(&v.id)
        {
            lines.push(Line::styled(
                if lookalike {
                    "⚠ Requested for someone who looks like you: the broker will refuse it."
                } else {
                    "⚠ Requested by you or for you: the broker will refuse self-approval."
                },
                theme.level(Level::Warn),
            ));
        }
        lines.push(field(
            "Signs digest",
            vec![Span::styled(
                format!("{}…", v.digest.prefix(16)),
                theme.key_hint(),
            )],
        ));
        lines.push(Line::raw(""));
        let mut reason = input_line("Reason", &d.reason, d.field == Field::Reason, theme);
        let hint = match d.verdict {
            Verdict::Deny => " required",
            Verdict::Approve => " optional",
        };
        reason.spans.push(Span::styled(hint, theme.muted()));
        lines.push(reason);
        if let Some(typed) = &d.typed {
            lines.push(Line::raw(""));
            let mut s = vec![Span::styled("CRITICAL — type ", theme.level(Level::Error))];
            let (phrase, what) = match &v.confirm {
                Some(c) => (c, " (the phrase policy asks for) to confirm:"),
                None => (&v.resource, " (the resource) to confirm:"),
            };
            s.extend(safe_spans(phrase, theme.key_hint(), theme));
            s.push(Span::styled(what, theme.level(Level::Error)));
            lines.push(Line::from(s));
            lines.push(input_line(
                "Confirm",
                typed,
                d.field == Field::TypedConfirm,
                theme,
            ));
        }
        if !matches!(app.conn, crate::console::core::app::Conn::Live) {
            lines.push(Line::styled(
                "Offline: sent after reconnect, only if the action is unchanged.",
                theme.level(Level::Warn),
            ));
        }
        if let Some(err) = &d.error {
            lines.push(Line::styled(format!("✕ {err}"), theme.level(Level::Error)));
        }
        lines.push(Line::raw(""));
        let mut hints = vec![
            Span::styled("Enter", theme.key_hint()),
            Span::styled(" sign & send  ", theme.muted()),
        ];
        if d.typed.is_some() {
            hints.push(Span::styled("Tab", theme.key_hint()));
            hints.push(Span::styled(" next field  ", theme.muted()));
        }
        hints.push(Span::styled("Esc", theme.key_hint()));
        hints.push(Span::styled(" cancel", theme.muted()));
        lines.push(Line::from(hints));
        let danger = v.risk >= RiskLevel::High || d.verdict == Verdict::Deny;
        let mut title_text = SafeText::join(&[&SafeText::trusted(format!("{verb}: ")), &v.summary]);
        title_text = title_text.truncate(60);
        self.frame(
            area,
            buf,
            Popup {
                width: 76,
                title: title_text.plain(),
                lines,
                danger,
            },
        );
    }
}

impl DialogView<'_> {
    /// The blocking notice: what happened to the action, and that nothing was sent.
    fn gone(&self, n: &GoneNotice, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let why = n.why.text();
        let mut lines = vec![
            Line::from(vec![
                Span::styled(
                    SafeText::line(&n.label).plain(),
                    theme.text().add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!(" was {why}."), theme.level(Level::Warn)),
            ]),
            Line::styled(
                "Nothing was sent. Keys are ignored until you close this notice.",
                theme.text(),
            ),
        ];
        if n.why == Why::Changed {
            lines.push(Line::styled(
                "Your reason is kept as a draft for this action.",
                theme.muted(),
            ));
        }
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled(format!("{why} — "), theme.muted()),
            Span::styled("Esc", theme.key_hint()),
            Span::styled(" to close", theme.muted()),
        ]));
        self.frame(
            area,
            buf,
            Popup {
                width: 70,
                title: format!("{}: no longer possible", n.was),
                lines,
                danger: true,
            },
        );
    }
}

impl Widget for DialogView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        match self.dialog {
            Dialog::Decide(d) => self.decide(d, area, buf),
            Dialog::Reason { input, .. } => {
                let lines = vec![
                    Line::styled("Used when you approve or deny this action.", theme.muted()),
                    input_line("Reason", input, true, theme),
                    Line::from(vec![
                        Span::styled("Enter", theme.key_hint()),
                        Span::styled(" save  ", theme.muted()),
                        Span::styled("Esc", theme.key_hint()),
                        Span::styled(" cancel", theme.muted()),
                    ]),
                ];
                self.frame(
                    area,
                    buf,
                    Popup {
                        width: 70,
                        title: "Reason".into(),
                        lines,
                        danger: false,
                    },
                );
            }
            Dialog::Search => {
                let r = Rect::new(
                    area.x,
                    area.y + area.height.saturating_sub(3),
                    area.width,
                    1,
                );
                Clear.render(r, buf);
                let mut s = vec![Span::styled(" / ", theme.key_hint())];
                s.extend(safe_spans(
                    &SafeText::line(&self.app.queue.search.value),
                    theme.text(),
                    theme,
                ));
                s.push(Span::styled("▏", theme.key_hint()));
                s.push(Span::styled("   Enter keep · Esc clear", theme.muted()));
                Line::from(s).render(r, buf);
            }
            Dialog::Filter { cursor } => {
                let f = &self.app.queue.filter;
                let mut lines = vec![Line::styled("Risk levels", theme.muted())];
                let mut i = 0;
                for level in RiskLevel::ALL {
                    let on = !f.hidden_risks.contains(&level);
                    lines.push(toggle_line(level.as_str(), on, *cursor == i, theme));
                    i += 1;
                }
                lines.push(Line::styled("Environments", theme.muted()));
                for env in self.app.queue.environments() {
                    let on = !f.hidden_envs.contains(&env);
                    lines.push(toggle_line(
                        &SafeText::line(&env).plain(),
                        on,
                        *cursor == i,
                        theme,
                    ));
                    i += 1;
                }
                lines.push(Line::from(vec![
                    Span::styled("Space", theme.key_hint()),
                    Span::styled(" toggle  ", theme.muted()),
                    Span::styled("j/k", theme.key_hint()),
                    Span::styled(" move  ", theme.muted()),
                    Span::styled("Esc", theme.key_hint()),
                    Span::styled(" close", theme.muted()),
                ]));
                self.frame(
                    area,
                    buf,
                    Popup {
                        width: 44,
                        title: "Filter".into(),
                        lines,
                        danger: false,
                    },
                );
            }
            Dialog::Gone(n) => self.gone(n, area, buf),
            Dialog::Help { .. } | Dialog::Login(_) => {}
        }
    }
}

fn toggle_line(name: &str, on: bool, at: bool, theme: &Theme) -> Line<'static> {
    let mark = if on { "[x] " } else { "[ ] " };
    let style = if at { theme.selection() } else { theme.text() };
    Line::styled(format!(" {mark}{name}"), style)
}
