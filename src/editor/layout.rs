//! Where everything goes, in logical points, for a window of a given size. Computed, not
//! flowed, so the Regenerate button sits at a known place ([`REGENERATE`]) that tests (and
//! users' muscle memory) can rely on at any window size.
//!
//! ```text
//! ┌ header: title · [Regenerate] · mode · ◀ history ▶ · seed ··················· drag · Export ┐
//! ├ mood: XY pad ┬ chords: key, chord line, next ──────────────────┬ sound: Built-in/MIDI  ┤
//! │  Energy      ├ piano roll (grows with the window) ─────────────┤  preset, levels,      │
//! │  Valence     ├ alternatives: the other candidates, as cards ───┤  melody voice,        │
//! ├ follow: mode,├ shape: swing, humanize, length, key, mode, locks ┤  texture, master      │
//! │  thru, heard │          parts                                  │                       │
//! ├ model folder ┘                                                 │                       │
//! └ status: model, last generation, problems, exported file ─────────────────────────────────┘
//! ```

use egui::{pos2, vec2, Rect, Vec2};

/// The window's size when first opened (saved with the project after a resize).
pub const EDITOR_SIZE: (u32, u32) = (1170, 660);
/// Smallest window the layout is made for.
pub const MIN_SIZE: (f32, f32) = (1070.0, 620.0);
/// Outer margin.
pub const MARGIN: f32 = 14.0;
/// Gap between cards.
pub const GAP: f32 = 10.0;
/// Height of the header band.
pub const HEADER_HEIGHT: f32 = 56.0;
/// Height of the status bar.
pub const STATUS_HEIGHT: f32 = 50.0;
/// Width of the left (mood) column.
pub const LEFT_WIDTH: f32 = 276.0;
/// Width of the right (sound) column.
pub const SOUND_WIDTH: f32 = 260.0;
/// Height of the mood card (XY pad, Energy, Valence).
pub const MOOD_HEIGHT: f32 = 288.0;
/// Height of the follow card (Follow, Thru, what is heard).
pub const FOLLOW_HEIGHT: f32 = 154.0;
/// Height of the chord card.
pub const CHORDS_HEIGHT: f32 = 92.0;
/// Height of the shape card (the other settings).
pub const SHAPE_HEIGHT: f32 = 208.0;
/// Height of the alternatives strip.
pub const ALTERNATIVES_HEIGHT: f32 = 64.0;

/// The Regenerate button, in logical points from the window's top-left corner. Anchored to
/// the top-left, so it is here at every window size.
pub const REGENERATE: Rect = Rect {
    min: pos2(150.0, 10.0),
    max: pos2(300.0, 46.0),
};

/// The Regenerate button's rectangle (see [`REGENERATE`]).
pub fn regenerate_rect() -> Rect {
    REGENERATE
}

/// Most alternative cards shown (the decoder writes 8 candidates: 7 alternatives).
pub const MAX_ALTERNATIVES: usize = 7;
/// Gap between alternative cards.
const CARD_GAP: f32 = 6.0;

/// The rectangles of `n` alternative cards (at most [`MAX_ALTERNATIVES`]) side by side across
/// `strip` ([`Layout::alternatives`]), each `1 / MAX_ALTERNATIVES` of it wide, so a card stays
/// put however many there are.
pub fn alternative_cards(strip: Rect, n: usize) -> Vec<Rect> {
    let n = n.min(MAX_ALTERNATIVES);
    let slots = MAX_ALTERNATIVES as f32;
    let width = (strip.width() - CARD_GAP * (slots - 1.0)) / slots;
    (0..n)
        .map(|i| {
            let left = strip.left() + i as f32 * (width + CARD_GAP);
            Rect::from_min_size(pos2(left, strip.top()), vec2(width, strip.height()))
        })
        .collect()
}

/// The regions of the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// Title, Regenerate, regenerate mode, history, seed, export and drag.
    pub header: Rect,
    /// The XY pad with Energy and Valence.
    pub mood: Rect,
    /// Follow and Thru, the chord and key heard, the captured progression.
    pub follow: Rect,
    /// The custom model folder.
    pub model: Rect,
    /// Key, chord line and the phrase queued next.
    pub chords: Rect,
    /// The piano roll.
    pub roll: Rect,
    /// The alternatives to the phrase: the candidates not chosen, as cards.
    pub alternatives: Rect,
    /// Swing, humanize, length, key, mode, swap, locks and parts.
    pub shape: Rect,
    /// Built-in or MIDI only, presets, levels, melody voice, texture, master.
    pub sound: Rect,
    /// Model, generation time, problems, the last exported file.
    pub status: Rect,
}

impl Layout {
    /// The layout for a window of `size` logical points (smaller sizes are laid out as
    /// [`MIN_SIZE`] and clipped).
    pub fn new(size: Vec2) -> Layout {
        let w = size.x.max(MIN_SIZE.0);
        let h = size.y.max(MIN_SIZE.1);
        let header = Rect::from_min_size(pos2(0.0, 0.0), vec2(w, HEADER_HEIGHT));
        let status = Rect::from_min_max(pos2(0.0, h - STATUS_HEIGHT), pos2(w, h));
        let top = HEADER_HEIGHT;
        let bottom = h - STATUS_HEIGHT - GAP;
        let left = Rect::from_min_max(pos2(MARGIN, top), pos2(MARGIN + LEFT_WIDTH, bottom));
        let mood = Rect::from_min_size(left.min, vec2(LEFT_WIDTH, MOOD_HEIGHT));
        let follow = Rect::from_min_size(
            pos2(left.left(), mood.bottom() + GAP),
            vec2(LEFT_WIDTH, FOLLOW_HEIGHT),
        );
        let model = Rect::from_min_max(pos2(left.left(), follow.bottom() + GAP), left.max);
        let sound = Rect::from_min_max(
            pos2(w - MARGIN - SOUND_WIDTH, top),
            pos2(w - MARGIN, bottom),
        );
        let right = Rect::from_min_max(
            pos2(left.right() + GAP, top),
            pos2(sound.left() - GAP, bottom),
        );
        let chords = Rect::from_min_size(right.min, vec2(right.width(), CHORDS_HEIGHT));
        let shape = Rect::from_min_max(pos2(right.left(), bottom - SHAPE_HEIGHT), right.max);
        let alternatives = Rect::from_min_max(
            pos2(right.left(), shape.top() - GAP - ALTERNATIVES_HEIGHT),
            pos2(right.right(), shape.top() - GAP),
        );
        let roll = Rect::from_min_max(
            pos2(right.left(), chords.bottom() + GAP),
            pos2(right.right(), alternatives.top() - GAP),
        );
        Layout {
            header,
            mood,
            follow,
            model,
            chords,
            roll,
            alternatives,
            shape,
            sound,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_window_fits_every_region() {
        let (w, h) = EDITOR_SIZE;
        let l = Layout::new(vec2(w as f32, h as f32));
        // 1170 × 660: status 610..660, body bottom 600; sound 896..1156 (1170 − 14 − 260);
        // the middle column 300..886; shape 392..600; alternatives 318..382; roll 158..308;
        // the left column: mood
        // 56..344, follow 354..508, model 518..600.
        assert_eq!(
            l.status,
            Rect::from_min_max(pos2(0.0, 610.0), pos2(1170.0, 660.0))
        );
        assert_eq!(
            l.sound,
            Rect::from_min_max(pos2(896.0, 56.0), pos2(1156.0, 600.0))
        );
        assert_eq!(
            l.shape,
            Rect::from_min_max(pos2(300.0, 392.0), pos2(886.0, 600.0))
        );
        assert_eq!(
            l.roll,
            Rect::from_min_max(pos2(300.0, 158.0), pos2(886.0, 308.0))
        );
        assert_eq!(
            l.alternatives,
            Rect::from_min_max(pos2(300.0, 318.0), pos2(886.0, 382.0))
        );
        assert_eq!(
            l.mood,
            Rect::from_min_max(pos2(14.0, 56.0), pos2(290.0, 344.0))
        );
        assert_eq!(
            l.follow,
            Rect::from_min_max(pos2(14.0, 354.0), pos2(290.0, 508.0))
        );
        assert_eq!(
            l.model,
            Rect::from_min_max(pos2(14.0, 518.0), pos2(290.0, 600.0))
        );
        assert!(l.header.contains_rect(REGENERATE));
    }

    #[test]
    fn alternative_cards_sit_side_by_side_at_fixed_places() {
        let strip = Layout::new(vec2(1170.0, 660.0)).alternatives;
        let cards = alternative_cards(strip, 7);
        assert_eq!(cards.len(), 7);
        // (586 − 6 × 6) / 7 = 78.571… wide.
        let width = (586.0 - 36.0) / 7.0;
        assert_eq!(
            cards[0],
            Rect::from_min_size(pos2(300.0, 318.0), vec2(width, 64.0))
        );
        assert!((cards[6].right() - 886.0).abs() < 1e-3);
        for pair in cards.windows(2) {
            assert!((pair[1].left() - pair[0].right() - 6.0).abs() < 1e-3);
        }
        // Fewer alternatives keep the same places; more are not shown.
        assert_eq!(alternative_cards(strip, 3), cards[..3].to_vec());
        assert_eq!(alternative_cards(strip, 20).len(), 7);
        assert!(alternative_cards(strip, 0).is_empty());
    }

    #[test]
    fn a_larger_window_gives_the_room_to_the_piano_roll() {
        let l = Layout::new(vec2(1470.0, 800.0));
        assert_eq!(
            l.roll,
            Rect::from_min_max(pos2(300.0, 158.0), pos2(1186.0, 448.0))
        );
        assert_eq!(
            l.sound,
            Rect::from_min_max(pos2(1196.0, 56.0), pos2(1456.0, 740.0))
        );
        // The follow card stays put; the model card takes the extra height.
        assert_eq!(
            l.follow,
            Rect::from_min_max(pos2(14.0, 354.0), pos2(290.0, 508.0))
        );
        assert_eq!(
            l.model,
            Rect::from_min_max(pos2(14.0, 518.0), pos2(290.0, 740.0))
        );
        assert_eq!(regenerate_rect(), REGENERATE);
    }
}
