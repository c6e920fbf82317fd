//! The arithmetic behind two controls: the XY pad (energy left to right, valence bottom to
//! top) and history back/forward. Pure, tested without a window.

use egui::{pos2, Pos2, Rect};

/// Energy and valence (each 0–1) for a pointer at `pointer` over the pad `pad`: energy grows
/// to the right, valence (brighter, happier) upwards. Outside the pad the values clamp.
pub fn pad_values(pad: Rect, pointer: Pos2) -> (f32, f32) {
    let energy = (pointer.x - pad.left()) / pad.width().max(f32::EPSILON);
    let valence = (pad.bottom() - pointer.y) / pad.height().max(f32::EPSILON);
    (energy.clamp(0.0, 1.0), valence.clamp(0.0, 1.0))
}

/// Where the pad draws its marker for `energy` and `valence` (the inverse of [`pad_values`]).
pub fn pad_position(pad: Rect, energy: f32, valence: f32) -> Pos2 {
    pos2(
        pad.left() + energy.clamp(0.0, 1.0) * pad.width(),
        pad.bottom() - valence.clamp(0.0, 1.0) * pad.height(),
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_maps_the_pointer_to_energy_and_valence() {
        // A 200 × 100 pad at (10, 20): right edge x 210, bottom y 120.
        let pad = Rect::from_min_max(pos2(10.0, 20.0), pos2(210.0, 120.0));
        assert_eq!(pad_values(pad, pos2(10.0, 120.0)), (0.0, 0.0));
        assert_eq!(pad_values(pad, pos2(210.0, 20.0)), (1.0, 1.0));
        // 60 of 200 across, 75 of 100 up from the bottom.
        assert_eq!(pad_values(pad, pos2(70.0, 45.0)), (0.3, 0.75));
        // Outside clamps.
        assert_eq!(pad_values(pad, pos2(-50.0, 500.0)), (0.0, 0.0));
        assert_eq!(pad_values(pad, pos2(900.0, -3.0)), (1.0, 1.0));
        assert_eq!(pad_position(pad, 0.5, 0.25), pos2(110.0, 95.0));
        assert_eq!(pad_position(pad, 2.0, -1.0), pos2(210.0, 120.0));
    }

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
