//! Piano-roll geometry: where a note, a bar line and the playhead go in a rectangle, in
//! logical points. Pure functions (no painting), so the numbers are tested without a window.
//!
//! Time runs left to right over the whole phrase (4 beats per phrase bar); pitch runs bottom
//! to top, one row per semitone from `low` to `high` inclusive.

use crate::phrase::Note;
use egui::{pos2, Rect};

/// Fewest semitone rows the roll shows (two octaves), so a sparse phrase is not drawn huge.
pub const MIN_ROWS: u8 = 24;
/// Rows left free above the highest and below the lowest note.
pub const PADDING_ROWS: u8 = 2;
/// Pitch range shown when there are no notes: C3–C6.
pub const EMPTY_RANGE: (u8, u8) = (48, 84);

/// The pitch range to show for `notes`: their lowest and highest key with [`PADDING_ROWS`]
/// to spare, widened evenly (the extra row on top) to at least [`MIN_ROWS`], kept in 0–127.
pub fn pitch_range(notes: &[Note]) -> (u8, u8) {
    let (Some(min), Some(max)) = (
        notes.iter().map(|n| n.key).min(),
        notes.iter().map(|n| n.key).max(),
    ) else {
        return EMPTY_RANGE;
    };
    let mut low = i32::from(min) - i32::from(PADDING_ROWS);
    let mut high = i32::from(max) + i32::from(PADDING_ROWS);
    let rows = high - low + 1;
    if rows < i32::from(MIN_ROWS) {
        let extra = i32::from(MIN_ROWS) - rows;
        low -= extra / 2;
        high += extra - extra / 2;
    }
    if low < 0 {
        high -= low;
        low = 0;
    }
    if high > 127 {
        low = (low - (high - 127)).max(0);
        high = 127;
    }
    (low as u8, high as u8)
}

/// Height of one semitone row.
pub fn row_height(view: Rect, (low, high): (u8, u8)) -> f32 {
    view.height() / f32::from(high.saturating_sub(low) + 1)
}

/// The x of a position `beats` into a phrase of `phrase_beats` beats.
pub fn beat_x(view: Rect, beats: f64, phrase_beats: f64) -> f32 {
    if phrase_beats <= 0.0 {
        return view.left();
    }
    view.left() + (beats / phrase_beats) as f32 * view.width()
}

/// The rectangle of `note` in `view` for a phrase of `phrase_beats` beats and the pitch range
/// `range` (inclusive). Notes outside the range are clamped to its edge rows.
pub fn note_rect(view: Rect, note: &Note, phrase_beats: f64, range: (u8, u8)) -> Rect {
    let (low, high) = range;
    let key = note.key.clamp(low, high);
    let row = row_height(view, range);
    let top = view.top() + f32::from(high - key) * row;
    let left = beat_x(view, note.start_beats, phrase_beats);
    let right = beat_x(view, note.start_beats + note.len_beats, phrase_beats);
    Rect::from_min_max(pos2(left, top), pos2(right, top + row))
}

/// The playhead's x for a cursor `cursor_bars` into a phrase of `phrase_bars` bars (wrapped
/// at the phrase end), or None when the transport is stopped.
pub fn playhead_x(view: Rect, cursor_bars: Option<f64>, phrase_bars: u32) -> Option<f32> {
    let cursor = cursor_bars.filter(|c| c.is_finite())?;
    if phrase_bars == 0 {
        return None;
    }
    let bars = f64::from(phrase_bars);
    Some(view.left() + (cursor.rem_euclid(bars) / bars) as f32 * view.width())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phrase::Part;

    fn note(start_beats: f64, len_beats: f64, key: u8) -> Note {
        Note {
            start_beats,
            len_beats,
            key,
            velocity: 90,
            channel: 0,
            part: Part::Melody,
        }
    }

    #[test]
    fn pitch_range_pads_and_widens_to_two_octaves() {
        assert_eq!(pitch_range(&[]), (48, 84));
        // 60..72 padded: 58..74 = 17 rows; 7 more: 3 below, 4 above → 55..78 (24 rows).
        assert_eq!(
            pitch_range(&[note(0.0, 1.0, 60), note(1.0, 1.0, 72)]),
            (55, 78)
        );
        // 36..76 padded: 34..78 = 45 rows, wide enough.
        assert_eq!(
            pitch_range(&[note(0.0, 1.0, 36), note(1.0, 1.0, 76)]),
            (34, 78)
        );
        // Near the bottom: 1 padded to -1..3 (5 rows), widened to -10..13, shifted up to 0..23.
        assert_eq!(pitch_range(&[note(0.0, 1.0, 1)]), (0, 23));
        // Near the top: 126 padded to 124..128, widened to 115..138, shifted down to 104..127.
        assert_eq!(pitch_range(&[note(0.0, 1.0, 126)]), (104, 127));
    }

    #[test]
    fn notes_map_to_rectangles() {
        // A 400 × 240 roll at (100, 50); 4-bar phrase = 16 beats → 25 points per beat;
        // range 60..=83 = 24 rows → 10 points per row.
        let view = Rect::from_min_max(pos2(100.0, 50.0), pos2(500.0, 290.0));
        let range = (60, 83);
        assert_eq!(row_height(view, range), 10.0);
        // Key 83 is the top row (y 50..60); beats 0..2 → x 100..150.
        assert_eq!(
            note_rect(view, &note(0.0, 2.0, 83), 16.0, range),
            Rect::from_min_max(pos2(100.0, 50.0), pos2(150.0, 60.0))
        );
        // Key 60 is the bottom row (y 280..290); beats 12..16 → x 400..500.
        assert_eq!(
            note_rect(view, &note(12.0, 4.0, 60), 16.0, range),
            Rect::from_min_max(pos2(400.0, 280.0), pos2(500.0, 290.0))
        );
        // Key 70: 83 − 70 = 13 rows down → y 180..190; beats 5.5..6 → x 237.5..250.
        assert_eq!(
            note_rect(view, &note(5.5, 0.5, 70), 16.0, range),
            Rect::from_min_max(pos2(237.5, 180.0), pos2(250.0, 190.0))
        );
        // Below the range: drawn on the bottom row.
        assert_eq!(
            note_rect(view, &note(0.0, 4.0, 40), 16.0, range).top(),
            280.0
        );
    }

    #[test]
    fn playhead_follows_the_cursor_and_wraps() {
        let view = Rect::from_min_max(pos2(100.0, 0.0), pos2(500.0, 10.0));
        assert_eq!(playhead_x(view, Some(0.0), 4), Some(100.0));
        // 1.5 of 4 bars = 0.375 of 400 points.
        assert_eq!(playhead_x(view, Some(1.5), 4), Some(250.0));
        // 5 bars into a 4-bar phrase is 1 bar in.
        assert_eq!(playhead_x(view, Some(5.0), 4), Some(200.0));
        // A 2-bar phrase: 1 bar = half way.
        assert_eq!(playhead_x(view, Some(1.0), 2), Some(300.0));
        assert_eq!(playhead_x(view, None, 4), None);
        assert_eq!(beat_x(view, 8.0, 16.0), 300.0);
    }
}
