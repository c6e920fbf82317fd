//! Follow: Live. While the musician holds a chord, the sequencer's bass and melody follow it on
//! the audio thread, without waiting for the worker. Owned by the audio thread; fixed-size
//! tables, bounded loops (16 channels × 128 keys at most), no allocation.
//!
//! * **At each note-on** of the bass or the melody, the key is moved: the bass to the held
//!   chord's root in the octave nearest the phrase's note ([`bass_key`]), a melody note to
//!   the nearest tone of the chord ([`melody_key`]). With no chord held, notes pass as written.
//! * **Its note-off** ends the key its note-on was sent as (a table per channel and original
//!   key), whatever is held by then, so no note hangs. The sequencer never starts a key twice
//!   without ending it, so the table always pairs them.
//! * **A bass note already sounding** when the held chord changes is struck again on the new
//!   root at the next eighth-note line of the host's grid (at most an eighth note later; a
//!   change on a line moves it at once). Waiting for the line lets a chord played a little
//!   spread out settle first. Melody notes already sounding are left to end as written.
//!
//! The worker, meanwhile, writes a phrase over the captured chords as Follow: Chords does.

use super::sequencer::{BarClock, MidiEvent};
use crate::music::harmony::HeardChord;
use crate::music::phrase::Part;

/// Eighth notes per quarter note.
const EIGHTHS_PER_BEAT: f64 = 2.0;

/// The bass key for the phrase's `key` over `chord`: the chord's root in the octave nearest
/// `key` (a tritone away goes down), kept within MIDI's 0–127.
pub fn bass_key(key: u8, chord: &HeardChord) -> u8 {
    let key = i16::from(key & 127);
    let below = key - (key - i16::from(chord.root % 12)).rem_euclid(12);
    let above = below + 12;
    let nearest = if key - below <= above - key {
        below
    } else {
        above
    };
    let nearest = if nearest < 0 { above } else { nearest };
    let nearest = if nearest > 127 { below } else { nearest };
    nearest.clamp(0, 127) as u8
}

/// The melody key for the phrase's `key` over `chord`: the nearest key whose pitch class
/// sounds in the chord (the key itself if it does; at equal distance, the lower one).
pub fn melody_key(key: u8, chord: &HeardChord) -> u8 {
    let key = key & 127;
    let tones = chord.pitch_classes();
    if tones & 0x0FFF == 0 {
        return key;
    }
    for d in 0..=6u8 {
        let below = key.checked_sub(d);
        let above = key.checked_add(d).filter(|k| *k <= 127);
        if let Some(k) = [below, above]
            .into_iter()
            .flatten()
            .find(|k| tones & 1 << (k % 12) != 0)
        {
            return k;
        }
    }
    key
}

/// What Live has moved; see the module docs.
#[derive(Debug, Clone)]
pub struct Live {
    /// The key each sounding bass or melody note (by channel and the phrase's key) was sent
    /// as.
    sent: [[u8; 128]; 16],
    /// Bit k of `sounding[ch]`: the phrase's bass or melody note of key k sounds.
    sounding: [u128; 16],
    /// Bit k of `bass[ch]`: that note is the bass's.
    bass: [u128; 16],
    /// The velocity of each sounding note (for a bass note struck again).
    velocity: [[u8; 128]; 16],
    /// The eighth-note line, in bars since the host's bar 0, at which sounding bass notes
    /// move to the chord held then (None: nothing to move).
    move_at_bars: Option<f64>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            sent: [[0; 128]; 16],
            sounding: [0; 16],
            bass: [0; 16],
            velocity: [[0; 128]; 16],
            move_at_bars: None,
        }
    }
}

impl Live {
    /// The sequencer's `event` as it is sent: a bass or melody note-on moved to `held` (see
    /// the module docs), a note-off on the key its note-on was sent as.
    pub fn note(&mut self, event: MidiEvent, held: Option<HeardChord>) -> MidiEvent {
        if !matches!(event.part, Part::Bass | Part::Melody) {
            return event;
        }
        let (ch, k) = (
            usize::from(event.channel & 15),
            usize::from(event.key & 127),
        );
        let bit = 1u128 << k;
        let was_sounding = self.sounding[ch] & bit != 0;
        if !event.on {
            self.sounding[ch] &= !bit;
            self.bass[ch] &= !bit;
            return MidiEvent {
                key: if was_sounding {
                    self.sent[ch][k]
                } else {
                    event.key
                },
                ..event
            };
        }
        let key = match (was_sounding, held) {
            (true, _) => self.sent[ch][k],
            (false, Some(chord)) if event.part == Part::Bass => bass_key(event.key, &chord),
            (false, Some(chord)) => melody_key(event.key, &chord),
            (false, None) => event.key,
        };
        self.sounding[ch] |= bit;
        if event.part == Part::Bass {
            self.bass[ch] |= bit;
        } else {
            self.bass[ch] &= !bit;
        }
        self.sent[ch][k] = key;
        self.velocity[ch][k] = event.velocity;
        MidiEvent { key, ..event }
    }

    /// The held chord changed at sample `timing` of a block on `clock`: sounding bass notes
    /// move at the next eighth-note line (at `timing` itself if it is on one).
    pub fn chord_changed(&mut self, clock: Option<BarClock>, timing: u32) {
        let Some(clock) = clock else {
            return;
        };
        if !(clock.samples_per_beat > 0.0 && clock.samples_per_bar > 0.0) {
            return;
        }
        let eighths_per_bar = clock.samples_per_bar / clock.samples_per_beat * EIGHTHS_PER_BEAT;
        let at_bars = clock.start_bars + f64::from(timing) / clock.samples_per_bar;
        // The line at or after the change (a change a hair past a line, within the sequencer's
        // rounding, counts as on it).
        let line = (at_bars * eighths_per_bar - 1e-9).ceil() / eighths_per_bar;
        let line = if clock.offset_of_bar(line) < f64::from(timing) {
            line + 1.0 / eighths_per_bar
        } else {
            line
        };
        self.move_at_bars = Some(line);
    }

    /// The sample of the block on `clock` at which sounding bass notes move, if it is due
    /// before `block_samples` (a move whose line has passed is due at once).
    pub fn move_due(&self, clock: Option<BarClock>, block_samples: u32) -> Option<u32> {
        let (line, clock) = (self.move_at_bars?, clock?);
        let offset = clock.offset_of_bar(line).max(0.0);
        (offset < f64::from(block_samples)).then_some(offset as u32)
    }

    /// Moves every sounding bass note to `held`'s root at `timing`: each moved note's
    /// note-off, then its note-on, to `each`. Nothing moves with no chord held.
    pub fn move_bass(
        &mut self,
        timing: u32,
        held: Option<HeardChord>,
        mut each: impl FnMut(MidiEvent),
    ) {
        self.move_at_bars = None;
        let Some(chord) = held else {
            return;
        };
        for ch in 0..16 {
            let mut keys = self.bass[ch];
            while keys != 0 {
                let k = keys.trailing_zeros() as usize;
                keys &= keys - 1;
                let from = self.sent[ch][k];
                let to = bass_key(k as u8, &chord);
                if from == to {
                    continue;
                }
                let note = MidiEvent {
                    timing,
                    on: false,
                    channel: ch as u8,
                    key: from,
                    velocity: 0,
                    part: Part::Bass,
                };
                each(note);
                each(MidiEvent {
                    on: true,
                    key: to,
                    velocity: self.velocity[ch][k],
                    ..note
                });
                self.sent[ch][k] = to;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::harmony::recognize;

    fn chord(keys: &[u8]) -> HeardChord {
        let mask = keys.iter().fold(0u16, |m, k| m | 1 << (k % 12));
        recognize(mask, keys.iter().min().map(|k| k % 12)).expect("a chord")
    }

    fn event(on: bool, key: u8, part: Part) -> MidiEvent {
        MidiEvent {
            timing: 0,
            on,
            channel: 1,
            key,
            velocity: 90,
            part,
        }
    }

    #[test]
    fn the_bass_takes_the_root_nearest_its_note_and_the_melody_the_nearest_chord_tone() {
        let eb = chord(&[51, 55, 58]);
        // C2 (36) → Eb2 (39), up 3; A2 (45) → Eb3 (51)? 6 up or 6 down: down, Eb2 (39).
        assert_eq!(bass_key(36, &eb), 39);
        assert_eq!(bass_key(45, &eb), 39);
        assert_eq!(bass_key(46, &eb), 51);
        assert_eq!(bass_key(39, &eb), 39);
        assert_eq!(bass_key(0, &eb), 3);
        assert_eq!(bass_key(127, &eb), 123);
        // Melody: E4 (64) → Eb4 (63), A4 (69) → G4/Bb4 at 2 and 1: Bb4 (70); G4 stays.
        assert_eq!(melody_key(64, &eb), 63);
        assert_eq!(melody_key(69, &eb), 70);
        assert_eq!(melody_key(67, &eb), 67);
        // F4 (65) is a tone from Eb and G: the lower.
        assert_eq!(melody_key(65, &eb), 63);
    }

    #[test]
    fn a_note_off_ends_the_key_its_note_on_was_sent_as() {
        let mut live = Live::default();
        let eb = chord(&[51, 55, 58]);
        let on = live.note(event(true, 36, Part::Bass), Some(eb));
        assert_eq!(on.key, 39);
        // Released before the note-off: the note-off still ends Eb.
        assert_eq!(live.note(event(false, 36, Part::Bass), None).key, 39);
        // Then the table is clear: a note-off without note-on passes as written.
        assert_eq!(live.note(event(false, 36, Part::Bass), Some(eb)).key, 36);
        // Chords and drums are never moved.
        assert_eq!(live.note(event(true, 64, Part::Chords), Some(eb)).key, 64);
        let g = chord(&[43, 47, 50]);
        assert_eq!(live.note(event(true, 64, Part::Melody), Some(g)).key, 62);
        assert_eq!(live.note(event(false, 64, Part::Melody), Some(eb)).key, 62);
    }

    #[test]
    fn a_sounding_bass_moves_at_the_next_eighth_note_line() {
        let mut live = Live::default();
        live.note(event(true, 36, Part::Bass), None);
        live.note(event(true, 72, Part::Melody), None);
        // 4/4 at 24 000 samples a beat: eighths every 12 000 samples, from bar 0.
        let clock = BarClock {
            start_bars: 0.0,
            samples_per_bar: 96_000.0,
            samples_per_beat: 24_000.0,
        };
        live.chord_changed(Some(clock), 30_000);
        assert_eq!(live.move_due(Some(clock), 30_000), None);
        assert_eq!(live.move_due(Some(clock), 36_001), Some(36_000));
        let mut sent = Vec::new();
        live.move_bass(36_000, Some(chord(&[51, 55, 58])), |e| {
            sent.push((e.timing, e.on, e.key))
        });
        assert_eq!(sent, [(36_000, false, 36), (36_000, true, 39)]);
        assert_eq!(live.move_due(Some(clock), u32::MAX), None);
        // The moved note ends on the key it moved to.
        assert_eq!(live.note(event(false, 36, Part::Bass), None).key, 39);
        // A change on a line moves at once.
        live.chord_changed(Some(clock), 48_000);
        assert_eq!(live.move_due(Some(clock), 48_001), Some(48_000));
    }
}
