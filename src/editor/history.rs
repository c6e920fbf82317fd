//! History back/forward: the buttons in the header and the arithmetic behind them (pure,
//! tested without a window).

use super::LoomApp;
use crate::bridge::messages::EditorToWorker;
use egui::{Button, RichText, Ui};

/// Which way to move through the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Towards older phrases.
    Back,
    /// Towards newer phrases.
    Forward,
}

/// The history index that plays now: `pos`, or the newest entry when None. None when the
/// history is empty.
pub fn current_index(len: usize, pos: Option<usize>) -> Option<usize> {
    let last = len.checked_sub(1)?;
    Some(pos.map_or(last, |p| p.min(last)))
}

/// The index one step from the current one, or None at that end of the history.
pub fn history_step(len: usize, pos: Option<usize>, step: Step) -> Option<usize> {
    let current = current_index(len, pos)?;
    match step {
        Step::Back => current.checked_sub(1),
        Step::Forward => (current + 1 < len).then_some(current + 1),
    }
}

impl LoomApp {
    /// Back / forward through the session's history.
    pub(super) fn history(&mut self, ui: &mut Ui) {
        let cell = &self.shared.params.session;
        let (len, pos) = cell.read(|s| (s.history.len(), s.history_pos));
        let current = current_index(len, pos);
        let back = history_step(len, pos, Step::Back);
        let forward = history_step(len, pos, Step::Forward);
        let mut go = None;
        if ui
            .add_enabled(back.is_some(), Button::new("‹"))
            .on_hover_text("Previous phrase")
            .clicked()
        {
            go = back;
        }
        let label = match current {
            Some(i) => format!("{} / {len}", i + 1),
            None => "– / –".to_owned(),
        };
        ui.label(RichText::new(label).monospace());
        if ui
            .add_enabled(forward.is_some(), Button::new("›"))
            .on_hover_text("Next phrase")
            .clicked()
        {
            go = forward;
        }
        let chosen = go.and_then(|i| Some((i, cell.read(|s| s.history.get(i).cloned())?)));
        if let Some((index, entry)) = chosen {
            self.shared.views.send(EditorToWorker::Restore {
                index,
                entry,
                knobs: self.shared.params.knobs(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_steps_stop_at_both_ends() {
        // Empty: nowhere to go.
        assert_eq!(current_index(0, None), None);
        assert_eq!(history_step(0, None, Step::Back), None);
        assert_eq!(history_step(0, None, Step::Forward), None);
        // Five entries, playing the newest (None = newest, index 4).
        assert_eq!(current_index(5, None), Some(4));
        assert_eq!(history_step(5, None, Step::Back), Some(3));
        assert_eq!(history_step(5, None, Step::Forward), None);
        assert_eq!(history_step(5, Some(4), Step::Forward), None);
        // In the middle.
        assert_eq!(history_step(5, Some(2), Step::Back), Some(1));
        assert_eq!(history_step(5, Some(2), Step::Forward), Some(3));
        // At the oldest.
        assert_eq!(history_step(5, Some(0), Step::Back), None);
        assert_eq!(history_step(5, Some(0), Step::Forward), Some(1));
        // A single entry: no step either way.
        assert_eq!(history_step(1, Some(0), Step::Back), None);
        assert_eq!(history_step(1, None, Step::Forward), None);
        // A stale position past the end counts as the newest.
        assert_eq!(current_index(3, Some(7)), Some(2));
    }
}
