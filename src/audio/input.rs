//! MIDI input on the audio thread: what the musician's notes are doing, and how their Thru
//! copies share the output with the sequencer's notes. Owned by the audio thread.
//!
//! * [`InputNotes`] is the input note table: a bit per channel and key for the keys held down
//!   and for the notes sounding (held down, or kept by the sustain pedal), the pedal of each
//!   channel, and when each note started. Every input sequence is safe: a note-off without its
//!   note-on is ignored, a second note-on of a sounding note ends it first (a retrigger), a
//!   released key under the pedal sounds until the pedal lifts, CC 120 (all sound off) and
//!   CC 123 (all notes off) end every note of their channel, pedal or not, and CC 121 (reset
//!   controllers) lifts the pedal. 128 keys on 16 channels at once are just bits.
//! * [`OutputNotes`] merges the two sources of the output — the sequencer and Thru — on one
//!   MIDI stream and one built-in keys instrument, so neither can hang or double the other's
//!   note: a note-on of a key another source holds ends it first (a retrigger), and a
//!   note-off is sent only when no source holds the key any more.
//!
//! Fixed-size tables, bounded loops (16 channels × 128 keys at most), no allocation.

use super::sequencer::MidiEvent;
use crate::music::phrase::Part;

/// One MIDI input event, with its sample offset in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEvent {
    /// A key goes down. Velocity 1–127; 0 is a note-off (the MIDI convention).
    NoteOn {
        /// Sample offset in the block.
        timing: u32,
        /// Channel 0–15.
        channel: u8,
        /// Key 0–127.
        key: u8,
        /// Velocity 0–127.
        velocity: u8,
    },
    /// A key comes up (the pedal may keep it sounding). None is a wildcard: every channel,
    /// or every key (CLAP allows both).
    NoteOff {
        /// Sample offset in the block.
        timing: u32,
        /// Channel 0–15, or None for all.
        channel: Option<u8>,
        /// Key 0–127, or None for all.
        key: Option<u8>,
    },
    /// A note ends at once, whatever the pedal (a CLAP choke). Wildcards as for `NoteOff`.
    Choke {
        /// Sample offset in the block.
        timing: u32,
        /// Channel 0–15, or None for all.
        channel: Option<u8>,
        /// Key 0–127, or None for all.
        key: Option<u8>,
    },
    /// The sustain pedal (CC 64; down from value 64 on).
    Sustain {
        /// Sample offset in the block.
        timing: u32,
        /// Channel 0–15.
        channel: u8,
        /// Whether the pedal is down.
        down: bool,
    },
    /// CC 120 (all sound off) or CC 123 (all notes off): every note of the channel ends.
    AllNotesOff {
        /// Sample offset in the block.
        timing: u32,
        /// Channel 0–15.
        channel: u8,
    },
    /// CC 121 (reset all controllers): the pedal lifts.
    ResetControllers {
        /// Sample offset in the block.
        timing: u32,
        /// Channel 0–15.
        channel: u8,
    },
}

impl InputEvent {
    /// Its sample offset in the block.
    pub fn timing(&self) -> u32 {
        match *self {
            InputEvent::NoteOn { timing, .. }
            | InputEvent::NoteOff { timing, .. }
            | InputEvent::Choke { timing, .. }
            | InputEvent::Sustain { timing, .. }
            | InputEvent::AllNotesOff { timing, .. }
            | InputEvent::ResetControllers { timing, .. } => timing,
        }
    }

    /// The event at another sample offset.
    pub fn at(mut self, at: u32) -> InputEvent {
        match &mut self {
            InputEvent::NoteOn { timing, .. }
            | InputEvent::NoteOff { timing, .. }
            | InputEvent::Choke { timing, .. }
            | InputEvent::Sustain { timing, .. }
            | InputEvent::AllNotesOff { timing, .. }
            | InputEvent::ResetControllers { timing, .. } => *timing = at,
        }
        self
    }
}

/// Where a block's input events come from (the host), in the order the host sent them.
pub trait NoteInput {
    /// The next input event of this block, if any.
    fn next_input(&mut self) -> Option<InputEvent>;
}

/// A note of the input starting or ending: what Thru plays and Follow listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteChange {
    /// Sample offset in the block.
    pub timing: u32,
    /// Start (true) or end.
    pub on: bool,
    /// Channel 0–15.
    pub channel: u8,
    /// Key 0–127.
    pub key: u8,
    /// Velocity 1–127 for a start, 0 for an end.
    pub velocity: u8,
    /// For an end: how long the note sounded, in samples.
    pub held_samples: u64,
}

/// The input note table; see the module docs.
#[derive(Debug, Clone)]
pub struct InputNotes {
    /// Bit k of `down[ch]`: key k is held down on channel ch.
    down: [u128; 16],
    /// Bit k of `sounding[ch]`: key k sounds on channel ch (held down or by the pedal).
    sounding: [u128; 16],
    /// Bit ch: the sustain pedal of channel ch is down.
    pedal: u16,
    /// When each sounding note started, in samples since the table was made.
    onset_samples: [[u64; 128]; 16],
    /// Samples since the table was made, at the start of the current block.
    clock_samples: u64,
}

impl Default for InputNotes {
    fn default() -> Self {
        InputNotes {
            down: [0; 16],
            sounding: [0; 16],
            pedal: 0,
            onset_samples: [[0; 128]; 16],
            clock_samples: 0,
        }
    }
}

/// The channels an event with channel `channel` (None: all) applies to, as a bit mask.
fn channel_mask(channel: Option<u8>) -> u16 {
    match channel {
        Some(ch) if ch < 16 => 1 << ch,
        Some(_) => 0,
        None => u16::MAX,
    }
}

/// The keys an event with key `key` (None: all) applies to, as a bit mask.
fn key_mask(key: Option<u8>) -> u128 {
    match key {
        Some(k) if k < 128 => 1 << k,
        Some(_) => 0,
        None => u128::MAX,
    }
}

impl InputNotes {
    /// Moves the clock on by one block of `block_samples` (call after the block).
    pub fn advance(&mut self, block_samples: u32) {
        self.clock_samples += u64::from(block_samples);
    }

    /// Applies one input event at its (already clamped) timing, telling `changes` about every
    /// note that starts or ends.
    pub fn apply(&mut self, event: InputEvent, changes: &mut impl FnMut(NoteChange)) {
        match event {
            InputEvent::NoteOn {
                timing,
                channel,
                key,
                velocity,
            } if channel < 16 && key < 128 => {
                if velocity == 0 {
                    let off = InputEvent::NoteOff {
                        timing,
                        channel: Some(channel),
                        key: Some(key),
                    };
                    return self.apply(off, changes);
                }
                let (ch, bit) = (usize::from(channel), 1u128 << key);
                if self.sounding[ch] & bit != 0 {
                    self.end(timing, ch, key, changes);
                }
                self.down[ch] |= bit;
                self.sounding[ch] |= bit;
                self.onset_samples[ch][usize::from(key)] = self.clock_samples + u64::from(timing);
                changes(NoteChange {
                    timing,
                    on: true,
                    channel,
                    key,
                    velocity: velocity.min(127),
                    held_samples: 0,
                });
            }
            InputEvent::NoteOn { .. } => {}
            InputEvent::NoteOff {
                timing,
                channel,
                key,
            } => {
                let keys = key_mask(key);
                for ch in Self::channels(channel_mask(channel)) {
                    let released = self.down[ch] & keys;
                    self.down[ch] &= !released;
                    if self.pedal & (1 << ch) == 0 {
                        self.end_all(timing, ch, released & self.sounding[ch], changes);
                    }
                }
            }
            InputEvent::Choke {
                timing,
                channel,
                key,
            } => {
                let keys = key_mask(key);
                for ch in Self::channels(channel_mask(channel)) {
                    self.down[ch] &= !keys;
                    self.end_all(timing, ch, self.sounding[ch] & keys, changes);
                }
            }
            InputEvent::Sustain {
                timing,
                channel,
                down,
            } if channel < 16 => {
                if down {
                    self.pedal |= 1 << channel;
                } else {
                    self.lift_pedal(timing, channel, changes);
                }
            }
            InputEvent::ResetControllers { timing, channel } if channel < 16 => {
                self.lift_pedal(timing, channel, changes);
            }
            InputEvent::AllNotesOff { timing, channel } if channel < 16 => {
                let ch = usize::from(channel);
                self.down[ch] = 0;
                self.end_all(timing, ch, self.sounding[ch], changes);
            }
            InputEvent::Sustain { .. }
            | InputEvent::ResetControllers { .. }
            | InputEvent::AllNotesOff { .. } => {}
        }
    }

    /// Forgets every note and pedal without telling anyone (after a reset, the host
    /// considers them ended).
    pub fn forget(&mut self) {
        self.down = [0; 16];
        self.sounding = [0; 16];
        self.pedal = 0;
    }

    /// Every sounding pitch class, on any channel (bit k = pitch class k).
    pub fn pitch_classes(&self) -> u16 {
        let mut set = 0u16;
        for keys in self.sounding {
            let mut keys = keys;
            // Fold the 128 key bits onto 12 pitch classes: bounded by 11 octaves.
            while keys != 0 {
                set |= (keys & 0xFFF) as u16;
                keys >>= 12;
            }
        }
        set
    }

    /// The lowest sounding key on any channel.
    pub fn lowest(&self) -> Option<u8> {
        self.sounding
            .iter()
            .filter(|k| **k != 0)
            .map(|k| k.trailing_zeros() as u8)
            .min()
    }

    /// Whether any input note sounds.
    pub fn any(&self) -> bool {
        self.sounding.iter().any(|k| *k != 0)
    }

    /// Whether key `key` sounds on channel `channel`.
    pub fn is_sounding(&self, channel: u8, key: u8) -> bool {
        channel < 16 && key < 128 && self.sounding[usize::from(channel)] & (1 << key) != 0
    }

    /// The channel indices set in `mask`.
    fn channels(mask: u16) -> impl Iterator<Item = usize> {
        (0..16).filter(move |ch| mask & (1 << ch) != 0)
    }

    /// Lifts the pedal of `channel`: every released key it kept ends.
    fn lift_pedal(&mut self, timing: u32, channel: u8, changes: &mut impl FnMut(NoteChange)) {
        let ch = usize::from(channel);
        self.pedal &= !(1 << channel);
        self.end_all(timing, ch, self.sounding[ch] & !self.down[ch], changes);
    }

    /// Ends every note of `keys` on channel `ch`.
    fn end_all(
        &mut self,
        timing: u32,
        ch: usize,
        keys: u128,
        changes: &mut impl FnMut(NoteChange),
    ) {
        let mut keys = keys;
        while keys != 0 {
            let k = keys.trailing_zeros() as u8;
            keys &= keys - 1;
            self.end(timing, ch, k, changes);
        }
    }

    /// Ends the note `key` on channel `ch` (which sounds).
    fn end(&mut self, timing: u32, ch: usize, key: u8, changes: &mut impl FnMut(NoteChange)) {
        self.sounding[ch] &= !(1 << key);
        let now = self.clock_samples + u64::from(timing);
        let held = now.saturating_sub(self.onset_samples[ch][usize::from(key)]);
        changes(NoteChange {
            timing,
            on: false,
            channel: ch as u8,
            key,
            velocity: 0,
            held_samples: held,
        });
    }
}

/// One of the two sources sharing the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The sequencer's phrase.
    Sequencer,
    /// The musician's notes passed through.
    Thru,
}

/// What to do with a note on the way out, as [`OutputNotes::route`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Routed {
    /// MIDI events to send, in order (a retrigger is an off, then an on).
    pub midi: [Option<MidiEvent>; 2],
    /// What the built-in keys do: start `(key, velocity)` (they retrigger a sounding key by
    /// themselves) or end `(key, 0)`; None: nothing.
    pub keys: Option<(u8, u8)>,
}

/// The notes each source holds on the output and on the built-in keys; see the module docs.
#[derive(Debug, Clone)]
pub struct OutputNotes {
    /// Bit k of `held[source][ch]`: the source holds key k on channel ch of the MIDI output.
    held: [[u128; 16]; 2],
    /// Bit k: the sequencer's chords hold key k on the built-in keys.
    keys_sequencer: u128,
    /// How many channels of Thru hold key k on the built-in keys.
    keys_thru: [u8; 128],
}

impl Default for OutputNotes {
    fn default() -> Self {
        OutputNotes {
            held: [[0; 16]; 2],
            keys_sequencer: 0,
            keys_thru: [0; 128],
        }
    }
}

impl OutputNotes {
    /// Routes one note event of `source` (for the sequencer, its own event; for Thru, a
    /// note of the input as a `MidiEvent` of part Chords): what goes to the MIDI output and
    /// what the built-in keys play. `keys` says whether the event plays on the built-in keys
    /// at all (the sequencer's chords, and Thru).
    pub fn route(&mut self, source: Source, event: MidiEvent, keys: bool) -> Routed {
        let s = source as usize;
        let other = 1 - s;
        let (ch, k) = (usize::from(event.channel & 15), event.key & 127);
        let bit = 1u128 << k;
        let mut routed = Routed::default();
        if event.on {
            if (self.held[0][ch] | self.held[1][ch]) & bit != 0 {
                routed.midi[0] = Some(MidiEvent {
                    on: false,
                    velocity: 0,
                    ..event
                });
            }
            self.held[s][ch] |= bit;
            routed.midi[1] = Some(event);
        } else {
            let was_held = self.held[s][ch] & bit != 0;
            self.held[s][ch] &= !bit;
            if was_held && self.held[other][ch] & bit == 0 {
                routed.midi[0] = Some(event);
            }
        }
        if keys {
            routed.keys = self.route_keys(source, k, event.on, event.velocity);
        }
        routed
    }

    /// The built-in keys' part of [`OutputNotes::route`].
    fn route_keys(&mut self, source: Source, k: u8, on: bool, velocity: u8) -> Option<(u8, u8)> {
        let bit = 1u128 << k;
        let thru = &mut self.keys_thru[usize::from(k)];
        let held_before = self.keys_sequencer & bit != 0 || *thru > 0;
        match (source, on) {
            (Source::Sequencer, true) => self.keys_sequencer |= bit,
            (Source::Sequencer, false) => self.keys_sequencer &= !bit,
            (Source::Thru, true) => *thru = thru.saturating_add(1),
            (Source::Thru, false) => *thru = thru.saturating_sub(1),
        }
        let held_after = self.keys_sequencer & bit != 0 || self.keys_thru[usize::from(k)] > 0;
        if on {
            Some((k, velocity.max(1)))
        } else if held_before && !held_after {
            Some((k, 0))
        } else {
            None
        }
    }

    /// The keys Thru holds on the built-in keys (bit k = key k).
    pub fn thru_keys(&self) -> u128 {
        let mut bits = 0u128;
        for (k, n) in self.keys_thru.iter().enumerate() {
            if *n > 0 {
                bits |= 1 << k;
            }
        }
        bits
    }

    /// Whether `source` holds any note on the output.
    pub fn holds_any(&self, source: Source) -> bool {
        self.held[source as usize].iter().any(|k| *k != 0)
    }

    /// Every note `source` holds, as its note-off at `timing` (for [`OutputNotes::route`]),
    /// channel by channel and key by key: bounded by 16 × 128.
    pub fn held_notes(&self, source: Source, timing: u32, mut each: impl FnMut(MidiEvent)) {
        for (ch, keys) in self.held[source as usize].iter().enumerate() {
            let mut keys = *keys;
            while keys != 0 {
                let k = keys.trailing_zeros() as u8;
                keys &= keys - 1;
                each(MidiEvent {
                    timing,
                    on: false,
                    channel: ch as u8,
                    key: k,
                    velocity: 0,
                    part: Part::Chords,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(timing: u32, channel: u8, key: u8) -> InputEvent {
        InputEvent::NoteOn {
            timing,
            channel,
            key,
            velocity: 100,
        }
    }

    fn off(timing: u32, channel: u8, key: u8) -> InputEvent {
        InputEvent::NoteOff {
            timing,
            channel: Some(channel),
            key: Some(key),
        }
    }

    fn run(notes: &mut InputNotes, events: &[InputEvent]) -> Vec<(u32, bool, u8, u8)> {
        let mut got = Vec::new();
        for e in events {
            notes.apply(*e, &mut |c| got.push((c.timing, c.on, c.channel, c.key)));
        }
        got
    }

    #[test]
    fn note_off_without_note_on_and_double_note_ons_are_safe() {
        let mut n = InputNotes::default();
        assert_eq!(run(&mut n, &[off(0, 0, 60)]), []);
        assert_eq!(
            run(
                &mut n,
                &[on(1, 0, 60), on(2, 0, 60), off(3, 0, 60), off(4, 0, 60)]
            ),
            [
                (1, true, 0, 60),
                (2, false, 0, 60),
                (2, true, 0, 60),
                (3, false, 0, 60)
            ]
        );
        assert!(!n.any());
    }

    #[test]
    fn the_pedal_keeps_released_keys_until_it_lifts() {
        let mut n = InputNotes::default();
        let pedal = |timing, down| InputEvent::Sustain {
            timing,
            channel: 0,
            down,
        };
        let got = run(
            &mut n,
            &[
                pedal(0, true),
                on(1, 0, 60),
                off(2, 0, 60),
                on(3, 0, 64),
                on(4, 1, 67),
                off(5, 1, 67), // another channel: no pedal there
                pedal(6, false),
                off(7, 0, 64),
            ],
        );
        assert_eq!(
            got,
            [
                (1, true, 0, 60),
                (3, true, 0, 64),
                (4, true, 1, 67),
                (5, false, 1, 67),
                (6, false, 0, 60),
                (7, false, 0, 64)
            ]
        );
    }

    #[test]
    fn all_notes_off_ends_everything_on_its_channel_pedal_or_not() {
        let mut n = InputNotes::default();
        let mut events = vec![InputEvent::Sustain {
            timing: 0,
            channel: 3,
            down: true,
        }];
        events.extend((0..128).map(|k| on(0, 3, k)));
        events.push(on(0, 4, 10));
        assert_eq!(run(&mut n, &events).len(), 129);
        let got = run(
            &mut n,
            &[InputEvent::AllNotesOff {
                timing: 5,
                channel: 3,
            }],
        );
        assert_eq!(got.len(), 128);
        assert!(got.iter().all(|g| !g.1 && g.2 == 3));
        assert!(n.is_sounding(4, 10));
        let wild = InputEvent::NoteOff {
            timing: 6,
            channel: None,
            key: None,
        };
        assert_eq!(run(&mut n, &[wild]), [(6, false, 4, 10)]);
        assert!(!n.any());
    }

    #[test]
    fn held_durations_and_the_pitch_class_set() {
        let mut n = InputNotes::default();
        run(&mut n, &[on(100, 0, 62), on(0, 0, 77), on(0, 0, 81)]);
        assert_eq!(n.pitch_classes(), 1 << 2 | 1 << 5 | 1 << 9);
        assert_eq!(n.lowest(), Some(62));
        n.advance(1000);
        let mut held = Vec::new();
        n.apply(off(50, 0, 62), &mut |c| held.push(c.held_samples));
        assert_eq!(held, [950]);
    }

    fn ev(on: bool, channel: u8, key: u8) -> MidiEvent {
        MidiEvent {
            timing: 0,
            on,
            channel,
            key,
            velocity: if on { 90 } else { 0 },
            part: Part::Chords,
        }
    }

    #[test]
    fn two_sources_on_one_key_never_hang_or_double() {
        let mut o = OutputNotes::default();
        let seq = o.route(Source::Sequencer, ev(true, 0, 60), true);
        assert_eq!(seq.midi, [None, Some(ev(true, 0, 60))]);
        assert_eq!(seq.keys, Some((60, 90)));
        // Thru strikes the same key: the output retriggers it.
        let thru = o.route(Source::Thru, ev(true, 0, 60), true);
        assert_eq!(thru.midi, [Some(ev(false, 0, 60)), Some(ev(true, 0, 60))]);
        // The sequencer lets go: Thru still holds it, nothing is sent.
        let seq_off = o.route(Source::Sequencer, ev(false, 0, 60), true);
        assert_eq!((seq_off.midi, seq_off.keys), ([None, None], None));
        // A note-off of a source that holds nothing is dropped.
        let stray = o.route(Source::Sequencer, ev(false, 0, 60), true);
        assert_eq!(stray.midi, [None, None]);
        let thru_off = o.route(Source::Thru, ev(false, 0, 60), true);
        assert_eq!(thru_off.midi, [Some(ev(false, 0, 60)), None]);
        assert_eq!(thru_off.keys, Some((60, 0)));
        assert!(!o.holds_any(Source::Thru) && !o.holds_any(Source::Sequencer));
    }

    #[test]
    fn thru_on_two_channels_shares_one_built_in_key() {
        let mut o = OutputNotes::default();
        o.route(Source::Thru, ev(true, 0, 60), true);
        o.route(Source::Thru, ev(true, 5, 60), true);
        assert_eq!(o.thru_keys(), 1 << 60);
        assert_eq!(o.route(Source::Thru, ev(false, 0, 60), true).keys, None);
        assert_eq!(
            o.route(Source::Thru, ev(false, 5, 60), true).keys,
            Some((60, 0))
        );
        assert_eq!(o.thru_keys(), 0);
    }
}
