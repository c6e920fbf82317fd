//! The piano roll: its geometry — where a note, a bar line and the playhead go in a
//! rectangle, in logical points (pure functions, tested without a window) — and the painter
//! that draws the playing phrase with it.
//!
//! Time runs left to right over the whole phrase (4 beats per phrase bar); pitch runs bottom
//! to top, one row per semitone from `low` to `high` inclusive. Drums get a lane of their own
//! below the pitched parts, one row per drum sound (the kick at the bottom).

use super::{chords, theme, Snapshot};
use crate::music::drums::{DrumSound, KitMap};
use crate::music::phrase::{Note, Part};
use crate::music::progression::BEATS_PER_BAR;
use egui::{pos2, vec2, Align2, Color32, CornerRadius, FontId, Rect, Stroke};

/// Fewest semitone rows the roll shows (two octaves), so a sparse phrase is not drawn huge.
pub const MIN_ROWS: u8 = 24;
/// Rows left free above the highest and below the lowest note.
pub const PADDING_ROWS: u8 = 2;
/// Pitch range shown when there are no notes: C3–C6.
pub const EMPTY_RANGE: (u8, u8) = (48, 84);

/// Share of the roll's height the drum lane takes when the phrase has drums.
pub const DRUM_LANE_SHARE: f32 = 0.32;
/// Gap between the pitched parts and the drum lane.
pub const LANE_GAP: f32 = 6.0;
/// Narrowest a drum hit is drawn, in points (hits are much shorter than a beat).
pub const MIN_HIT_WIDTH: f32 = 3.0;
/// Row labels of the drum lane, in [`DrumSound`] order.
pub const DRUM_LABELS: [&str; DrumSound::COUNT] = [
    "kick", "stick", "snare", "clap", "hat", "pedal", "open", "ride", "shaker",
];

/// The pitch range to show for `notes`' pitched parts (drums have their own lane): their
/// lowest and highest key with [`PADDING_ROWS`] to spare, widened evenly (the extra row on
/// top) to at least [`MIN_ROWS`], kept in 0–127.
pub fn pitch_range(notes: &[Note]) -> (u8, u8) {
    let pitched = || notes.iter().filter(|n| n.part != Part::Drums);
    let (Some(min), Some(max)) = (
        pitched().map(|n| n.key).min(),
        pitched().map(|n| n.key).max(),
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

/// The pitched lane and the drum lane of a roll `view`: the drum lane takes the bottom
/// [`DRUM_LANE_SHARE`] when there are drums, else there is none.
pub fn lanes(view: Rect, drums: bool) -> (Rect, Option<Rect>) {
    if !drums {
        return (view, None);
    }
    let split = view.bottom() - view.height() * DRUM_LANE_SHARE;
    let pitched = Rect::from_min_max(view.min, pos2(view.right(), split - LANE_GAP / 2.0));
    let drums = Rect::from_min_max(pos2(view.left(), split + LANE_GAP / 2.0), view.max);
    (pitched, Some(drums))
}

/// The rectangle of a drum hit of `sound` in the drum `lane`: one row per sound, the kick at
/// the bottom, at least [`MIN_HIT_WIDTH`] wide.
pub fn hit_rect(lane: Rect, sound: DrumSound, note: &Note, phrase_beats: f64) -> Rect {
    let row = lane.height() / DrumSound::COUNT as f32;
    let bottom = lane.bottom() - sound.index() as f32 * row;
    let left = beat_x(lane, note.start_beats, phrase_beats);
    let right = beat_x(lane, note.start_beats + note.len_beats, phrase_beats);
    Rect::from_min_max(
        pos2(left, bottom - row),
        pos2(right.max(left + MIN_HIT_WIDTH), bottom),
    )
}

/// The drum sound of a drum note under `kit`.
pub fn drum_sound(note: &Note, kit: KitMap) -> Option<DrumSound> {
    (note.part == Part::Drums)
        .then(|| kit.sound(note.key))
        .flatten()
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

/// The drum lane: a row per drum sound, labelled, with each hit as a short block.
fn drum_lane_paint(painter: &egui::Painter, lane: Rect, notes: &[Note], beats: f64, kit: KitMap) {
    painter.rect_filled(
        lane,
        CornerRadius::same(4),
        theme::GRID.gamma_multiply(0.35),
    );
    let row = lane.height() / DrumSound::COUNT as f32;
    if row >= 7.0 {
        for (sound, label) in DrumSound::ALL.iter().zip(DRUM_LABELS) {
            let y = lane.bottom() - (sound.index() as f32 + 0.5) * row;
            painter.text(
                pos2(lane.left() + 2.0, y),
                Align2::LEFT_CENTER,
                label,
                FontId::proportional((row * 0.8).min(9.0)),
                theme::MUTED,
            );
        }
    }
    let colour = theme::part_colour(Part::Drums);
    for note in notes {
        let Some(sound) = drum_sound(note, kit) else {
            continue;
        };
        let r = hit_rect(lane, sound, note, beats).shrink2(vec2(0.0, 0.5));
        let strength = 0.45 + 0.55 * f32::from(note.velocity) / 127.0;
        painter.rect_filled(r, CornerRadius::same(1), colour.gamma_multiply(strength));
    }
}

/// The piano roll of the playing phrase with its playhead.
pub(super) fn piano_roll(ui: &mut egui::Ui, rect: Rect, snap: &Snapshot) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, CornerRadius::same(10), theme::INSET);
    let view_rect = rect.shrink2(vec2(10.0, 10.0));
    let Some(view) = &snap.phrase else {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "The piano roll shows the phrase here",
            FontId::proportional(15.0),
            theme::MUTED,
        );
        return;
    };
    let phrase = &view.phrase;
    let notes = phrase.notes();
    let range = pitch_range(notes);
    let beats = phrase.len_beats();
    let has_drums = notes.iter().any(|n| n.part == Part::Drums);
    let (pitch_rect, drum_lane) = lanes(view_rect, has_drums);
    let row = row_height(pitch_rect, range);
    // Octave shading: every C row.
    for key in range.0..=range.1 {
        if key % 12 == 0 {
            let r = note_rect(
                pitch_rect,
                &Note {
                    start_beats: 0.0,
                    len_beats: beats,
                    key,
                    velocity: 0,
                    channel: 0,
                    part: Part::Chords,
                },
                beats,
                range,
            );
            painter.rect_filled(r, 0.0, theme::GRID.gamma_multiply(0.6));
            if row >= 7.0 {
                painter.text(
                    pos2(r.left() + 2.0, r.center().y),
                    Align2::LEFT_CENTER,
                    format!("C{}", i32::from(key) / 12 - 1),
                    FontId::proportional((row * 0.9).min(10.0)),
                    theme::MUTED,
                );
            }
        }
    }
    for beat in 0..=(beats as u32) {
        let x = beat_x(view_rect, f64::from(beat), beats);
        let bar_line = beat % BEATS_PER_BAR == 0;
        let colour = if bar_line {
            theme::BAR_LINE
        } else {
            theme::GRID
        };
        painter.line_segment(
            [pos2(x, view_rect.top()), pos2(x, view_rect.bottom())],
            Stroke::new(if bar_line { 1.5 } else { 1.0 }, colour),
        );
    }
    let playing_lit =
        chords::highlighted_chord(snap.host.cursor_bars, phrase.bars(), phrase.bars() as usize);
    if let Some(bar) = playing_lit {
        let bar_beats = f64::from(BEATS_PER_BAR);
        let x0 = beat_x(view_rect, bar as f64 * bar_beats, beats);
        let x1 = beat_x(view_rect, (bar + 1) as f64 * bar_beats, beats);
        painter.rect_filled(
            Rect::from_min_max(pos2(x0, view_rect.top()), pos2(x1, view_rect.bottom())),
            0.0,
            Color32::from_rgba_unmultiplied(0xf2, 0xa6, 0x79, 14),
        );
    }
    for part in [Part::Chords, Part::Bass, Part::Melody] {
        let colour = theme::part_colour(part);
        for note in notes.iter().filter(|n| n.part == part) {
            let r = note_rect(pitch_rect, note, beats, range).shrink2(vec2(0.5, 0.5));
            let strength = 0.55 + 0.45 * f32::from(note.velocity) / 127.0;
            painter.rect_filled(r, CornerRadius::same(2), colour.gamma_multiply(strength));
        }
    }
    if let Some(lane) = drum_lane {
        drum_lane_paint(&painter, lane, notes, beats, view.knobs.kit);
    }
    if let Some(x) = playhead_x(view_rect, snap.host.cursor_bars, phrase.bars()) {
        painter.line_segment(
            [pos2(x, rect.top() + 4.0), pos2(x, rect.bottom() - 4.0)],
            Stroke::new(2.0, theme::ACCENT),
        );
    }
    if snap.next.is_some() {
        let tag = Rect::from_min_size(
            pos2(rect.right() - 64.0, rect.top() + 8.0),
            vec2(54.0, 20.0),
        );
        painter.rect_filled(
            tag,
            CornerRadius::same(6),
            theme::MELODY.gamma_multiply(0.85),
        );
        painter.text(
            tag.center(),
            Align2::CENTER_CENTER,
            "NEXT",
            FontId::proportional(12.0),
            theme::ON_ACCENT,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::phrase::Part;

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

    #[test]
    fn drums_get_a_lane_of_their_own_a_row_per_sound() {
        let view = Rect::from_min_max(pos2(0.0, 0.0), pos2(400.0, 206.0));
        assert_eq!(lanes(view, false), (view, None));
        // 206 high: the lane is the bottom 32 % (65.92), 3 points of gap on either side.
        let (pitched, drums) = lanes(view, true);
        let drums = drums.expect("a drum lane");
        assert_eq!(
            pitched,
            Rect::from_min_max(pos2(0.0, 0.0), pos2(400.0, 137.08))
        );
        assert_eq!(drums.min, pos2(0.0, 143.08));
        assert_eq!(drums.max, pos2(400.0, 206.0));
        // A lane 90 high: 10 per row; the kick is the bottom row, the shaker the top one.
        let lane = Rect::from_min_max(pos2(0.0, 100.0), pos2(400.0, 190.0));
        let mut kick = note(4.0, 0.0625, 36);
        kick.part = Part::Drums;
        assert_eq!(
            drum_sound(&kick, KitMap::GeneralMidi),
            Some(DrumSound::Kick)
        );
        // Beat 4 of a 16-beat phrase at x 100; 1/16 beat is 1.5625 points: drawn 3 wide.
        assert_eq!(
            hit_rect(lane, DrumSound::Kick, &kick, 16.0),
            Rect::from_min_max(pos2(100.0, 180.0), pos2(103.0, 190.0))
        );
        assert_eq!(
            hit_rect(lane, DrumSound::Shaker, &kick, 16.0),
            Rect::from_min_max(pos2(100.0, 100.0), pos2(103.0, 110.0))
        );
        // Not a drum note, or a key the kit does not use: not in the lane.
        assert_eq!(drum_sound(&note(0.0, 1.0, 36), KitMap::GeneralMidi), None);
        kick.key = 35;
        assert_eq!(drum_sound(&kick, KitMap::GeneralMidi), None);
        // The drums leave the pitch range alone.
        let mut notes = vec![note(0.0, 1.0, 60), note(1.0, 1.0, 72)];
        notes.push(Note {
            key: 36,
            part: Part::Drums,
            ..notes[0]
        });
        assert_eq!(pitch_range(&notes), (55, 78));
    }
}
