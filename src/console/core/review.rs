//! `signoff review ID`, the deep link every notification points at: the console opens
//! with that action selected (once it is on the queue), `y` copies the command for the
//! selected action, and the terminal title counts what waits.

use crate::console::core::app::{App, Level};
use crate::console::core::msg::Effect;
use crate::console::core::update::notice;
use crate::console::queue::order::select_index;
use crate::protocol::{ActionId, RiskLevel};

/// The command that opens an action in the console.
pub fn command(id: ActionId) -> String {
    format!("signoff review {id}")
}

/// Selects the action `signoff review` asked for as soon as it is on the queue, and
/// tells the broker "I'm looking" (other approvers see it on the row and in Slack).
pub fn select_requested(app: &mut App, fx: &mut Vec<Effect>) {
    let Some(id) = app.review else {
        return;
    };
    if let Some(i) = app.queue.order.iter().position(|x| *x == id) {
        app.review = None;
        select_index(&mut app.queue, i);
        fx.push(Effect::Claim(id));
        notice(app, Level::Info, &format!("selected {id}, as asked"));
    } else if app.queue.entries.contains_key(&id) {
        // Pending but hidden by a filter or search: say so instead of guessing.
        app.review = None;
        notice(
            app,
            Level::Warn,
            &format!("{id} is pending but hidden by the filter or search; clear them to see it"),
        );
    }
}

/// `y`: puts `signoff review ID` for the selected action on the clipboard (OSC 52).
pub fn copy(app: &mut App, fx: &mut Vec<Effect>) {
    let Some(id) = app.queue.selected else {
        notice(app, Level::Info, "nothing selected");
        return;
    };
    let cmd = command(id);
    fx.push(Effect::CopyToClipboard(cmd.clone()));
    // OSC 52 has no answer, so never claim the copy worked.
    notice(
        app,
        Level::Info,
        &format!(
            "sent `{cmd}` to the clipboard via OSC 52 (it copies only where the terminal allows it)"
        ),
    );
}

/// The terminal title: `signoff · 3 pending · 1 critical`.
pub fn title(app: &App) -> String {
    let pending = app.queue.entries.len();
    let critical = app
        .queue
        .entries
        .values()
        .filter(|e| e.row.risk == RiskLevel::Critical)
        .count();
    if critical == 0 {
        format!("signoff · {pending} pending")
    } else {
        format!("signoff · {pending} pending · {critical} critical")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::core::msg::Msg;
    use crate::console::core::update::update;
    use crate::console::fixtures;
    use crate::protocol::Timestamp;

    #[test]
    fn the_requested_action_is_selected_once_it_arrives_and_y_copies_its_command() {
        let mut app = fixtures::live_app(fixtures::sample_queue(), (120, 40));
        let ids: Vec<ActionId> = app.queue.order.clone();
        assert!(ids.len() >= 2, "the fixture has a queue");
        let want = ids[ids.len() - 1];
        app.review = Some(want);
        let fx = update(&mut app, Msg::Tick(Timestamp::now()));
        assert_eq!(app.queue.selected, Some(want));
        assert!(fx.contains(&Effect::Claim(want)), "says it is looking");
        assert_eq!(app.review, None);
        let mut fx = Vec::new();
        copy(&mut app, &mut fx);
        assert_eq!(
            fx,
            vec![Effect::CopyToClipboard(format!("signoff review {want}"))]
        );
    }

    #[test]
    fn the_title_counts_pending_and_critical() {
        let app = fixtures::live_app(fixtures::sample_queue(), (120, 40));
        let t = title(&app);
        assert!(
            t.starts_with(&format!("signoff · {} pending", app.queue.entries.len())),
            "{t}"
        );
        let crit = app
            .queue
            .entries
            .values()
            .filter(|e| e.row.risk == RiskLevel::Critical)
            .count();
        assert_eq!(t.contains("critical"), crit > 0, "{t}");
    }
}
