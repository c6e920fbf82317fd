//! Standard MIDI File export: a [`Phrase`] as `.mid` bytes, note for note what the plugin plays.
//!
//! [`midi_file`] never places events from the phrase's notes itself. It drives the real
//! [`Sequencer`] through the simulated host ([`SimTransport`] + [`Recorder`]) and writes down
//! what comes out, so a file cannot drift from playback: swing, humanize, the stretching of the
//! phrase's 4/4 bars to the host's bar and the retrigger of a key two parts share all come along.
//!
//! Ticks are exact because the simulated host runs at `ppq × tempo / 60` Hz: one sample is one
//! tick, and the sequencer's own rounding (an event lands on the first sample at or after its
//! time) is the file's rounding. The transport plays from song position 0 for
//! `loops × phrase bars` host bars and then stops for one block, which releases the notes still
//! sounding exactly on the last tick.
//!
//! The file is format 1 (simultaneous tracks):
//! * track 0, the conductor: track name [`CONDUCTOR_TRACK_NAME`], tempo, time signature;
//! * one track per MIDI channel that has notes, named after the parts on that channel
//!   ("Chords", "Bass", "Melody", or e.g. "Chords + Bass" when parts share a channel), ordered
//!   by part and then channel.
//!
//! Note-offs are Note Off messages (0x8n) with velocity 0, never Note On with velocity 0, so a
//! reader needs no convention to tell them apart. At equal ticks a track keeps the sequencer's
//! order: note-offs before note-ons. Every track ends (End of Track) at the phrase's end tick.
//!
//! Pure and deterministic: the same phrase and settings always give the same bytes.

use crate::audio::sequencer::{MidiEvent, Sequencer};
use crate::audio::sim::{Recorder, SimTransport};
use crate::music::phrase::{Part, Phrase};
use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

/// Ticks per quarter note unless told otherwise: fine enough for humanized timing.
pub const DEFAULT_PPQ: u16 = 960;
/// Tempo unless told otherwise, in BPM.
pub const DEFAULT_TEMPO_BPM: f64 = 80.0;
/// Tempos written, in BPM: a DAW's usual range. The slowest still fits the file's 24-bit
/// microseconds-per-quarter field.
pub const FILE_TEMPO_RANGE_BPM: (f64, f64) = (20.0, 999.0);
/// Ticks per quarter note accepted (the file allows up to 32 767).
pub const PPQ_RANGE: (u16, u16) = (96, 9600);
/// Most times the phrase is written into one file.
pub const MAX_LOOPS: u32 = 64;
/// Name of the conductor track (track 0).
pub const CONDUCTOR_TRACK_NAME: &str = "Lofi Loom";

/// Longest file, in ticks: delta times are 28-bit.
const MAX_LENGTH_TICKS: u64 = (1 << 28) - 1;
/// Largest block the simulated host hands the sequencer, in samples (= ticks).
const MAX_BLOCK_SAMPLES: u64 = 4096;
/// Slack when rounding a length to whole ticks, as the sequencer rounds positions to samples.
const EPS_TICKS: f64 = 1e-4;
/// Microseconds in a minute: tempo meta = this / BPM.
const MICROS_PER_MINUTE: f64 = 60_000_000.0;
/// MIDI clocks per metronome click in the time-signature meta: 24 = a click every quarter note.
const CLOCKS_PER_CLICK: u8 = 24;
/// Notated 32nd notes per MIDI quarter note in the time-signature meta: 8, the standard.
const THIRTY_SECONDS_PER_QUARTER: u8 = 8;
/// The parts, in track order.
const PARTS: [Part; 4] = [Part::Chords, Part::Bass, Part::Melody, Part::Drums];

/// How a phrase is written to a file. Out-of-range values are never an error:
/// [`ExportSettings::normalized`] says what [`midi_file`] makes of them.
///
/// Track names come from the phrase itself (each note knows its part and channel), so there
/// is no channel map to keep in sync here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportSettings {
    /// Tempo in BPM, [`FILE_TEMPO_RANGE_BPM`]. Written as microseconds per quarter note (rounded);
    /// the tick positions do not depend on it.
    pub tempo_bpm: f64,
    /// Host time signature (numerator, denominator); each 4/4 phrase bar is stretched to one
    /// bar of it, as the plugin does in a host. Unsupported ones (see [`time_sig_supported`])
    /// become 4/4, which is also what the sequencer falls back to.
    pub time_sig: (u8, u8),
    /// Ticks per quarter note, [`PPQ_RANGE`].
    pub ppq: u16,
    /// How many times the phrase is written, 1..=[`MAX_LOOPS`] (fewer if the file would pass
    /// 2^28 − 1 ticks, which only extreme time signatures at a high PPQ reach).
    pub loops: u32,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            tempo_bpm: DEFAULT_TEMPO_BPM,
            time_sig: (4, 4),
            ppq: DEFAULT_PPQ,
            loops: 1,
        }
    }
}

impl ExportSettings {
    /// The settings [`midi_file`] uses for `phrase`: tempo, PPQ and loops clamped into range
    /// (a non-finite tempo becomes [`DEFAULT_TEMPO_BPM`]), an unsupported time signature
    /// replaced by 4/4, and loops reduced if the file would be too long.
    pub fn normalized(&self, phrase: &Phrase) -> ExportSettings {
        let (lo, hi) = FILE_TEMPO_RANGE_BPM;
        let tempo_bpm = if self.tempo_bpm.is_finite() {
            self.tempo_bpm.clamp(lo, hi)
        } else {
            DEFAULT_TEMPO_BPM
        };
        let time_sig = if time_sig_supported(self.time_sig) {
            self.time_sig
        } else {
            (4, 4)
        };
        let mut s = ExportSettings {
            tempo_bpm,
            time_sig,
            ppq: self.ppq.clamp(PPQ_RANGE.0, PPQ_RANGE.1),
            loops: 1,
        };
        // At most 8 bars × 256 beats × 9600 PPQ ≈ 2^24.2 ticks per pass, so one loop always fits.
        let max_loops = (MAX_LENGTH_TICKS / s.phrase_ticks(phrase).max(1)).max(1);
        s.loops = u64::from(self.loops.clamp(1, MAX_LOOPS)).min(max_loops) as u32;
        s
    }

    /// Length of one host bar in quarter notes (3/4 → 3, 6/8 → 3, 7/16 → 1.75).
    pub fn bar_beats(&self) -> f64 {
        f64::from(self.time_sig.0) * 4.0 / f64::from(self.time_sig.1)
    }

    /// Length in ticks of the file [`midi_file`] writes for `phrase` (where every track ends).
    pub fn length_ticks(&self, phrase: &Phrase) -> u64 {
        let s = self.normalized(phrase);
        ticks_ceil(f64::from(s.loops) * s.phrase_beats(phrase) * f64::from(s.ppq))
    }

    /// One pass of the phrase in host quarter notes.
    fn phrase_beats(&self, phrase: &Phrase) -> f64 {
        f64::from(phrase.bars()) * self.bar_beats()
    }

    /// One pass of the phrase in ticks.
    fn phrase_ticks(&self, phrase: &Phrase) -> u64 {
        ticks_ceil(self.phrase_beats(phrase) * f64::from(self.ppq))
    }
}

/// Whether the sequencer follows this time signature (and a MIDI file can store it):
/// the rule lives in [`crate::audio::sequencer::time_sig_supported`].
pub fn time_sig_supported((numerator, denominator): (u8, u8)) -> bool {
    crate::audio::sequencer::time_sig_supported(numerator.into(), denominator.into())
}

/// The track name of a part.
pub fn part_name(part: Part) -> &'static str {
    match part {
        Part::Chords => "Chords",
        Part::Bass => "Bass",
        Part::Melody => "Melody",
        Part::Drums => "Drums",
    }
}

/// Writes `phrase`, played by the sequencer as the module docs describe, as a format 1
/// Standard MIDI File. Settings are first [normalized](ExportSettings::normalized).
pub fn midi_file(phrase: &Phrase, settings: &ExportSettings) -> Vec<u8> {
    let s = settings.normalized(phrase);
    let end_tick = s.length_ticks(phrase);
    let events = play(phrase, &s, end_tick);
    let tracks = part_tracks(phrase, events);
    encode(&s, end_tick, &tracks)
}

/// Rounds a length in ticks up to a whole tick, as the sequencer rounds positions to samples.
fn ticks_ceil(ticks: f64) -> u64 {
    (ticks - EPS_TICKS).ceil().max(0.0) as u64
}

/// Plays the phrase from song position 0 for `end_tick` ticks in the simulated host, then
/// stops. Returns the events as (tick, event), in the order the sequencer emitted them.
fn play(phrase: &Phrase, s: &ExportSettings, end_tick: u64) -> Vec<(u64, MidiEvent)> {
    let sample_rate = f64::from(s.ppq) * s.tempo_bpm / 60.0;
    let mut transport = SimTransport::new(sample_rate, s.tempo_bpm);
    transport.time_sig = (i32::from(s.time_sig.0), i32::from(s.time_sig.1));
    transport.playing = true;
    let mut sequencer = Sequencer::new();
    let mut recorder = Recorder::default();
    sequencer.queue(Box::new(phrase.clone()), &mut recorder);
    // Any block size gives the same events; one no longer than the phrase keeps every block
    // within the sequencer's bound on phrase loops per block.
    let block_samples = s.phrase_ticks(phrase).clamp(1, MAX_BLOCK_SAMPLES) as u32;
    recorder.run(&mut sequencer, &mut transport, end_tick, block_samples);
    // Stopping releases what still sounds at the first sample of the block: the end tick.
    transport.playing = false;
    recorder.block(&mut sequencer, &mut transport, 1);
    recorder
        .events
        .iter()
        .map(|e| (e.sample, e.event))
        .collect()
}

/// One part track before encoding.
#[derive(Debug, Clone, PartialEq)]
struct PartTrack {
    /// Track name, e.g. "Bass" or "Chords + Bass".
    name: String,
    /// MIDI channel 0–15 of every event.
    channel: u8,
    /// Events as (tick, event), in emission order.
    events: Vec<(u64, MidiEvent)>,
}

/// Splits the events into one track per channel, named after the parts whose notes use that
/// channel, ordered by their first part and then by channel.
fn part_tracks(phrase: &Phrase, events: Vec<(u64, MidiEvent)>) -> Vec<PartTrack> {
    // Bit `part as u8` of `parts_on[ch]` is set when a note of that part uses channel ch.
    let mut parts_on = [0u8; 16];
    for n in phrase.notes() {
        parts_on[usize::from(n.channel & 15)] |= 1 << (n.part as u8);
    }
    let mut by_channel: [Vec<(u64, MidiEvent)>; 16] = std::array::from_fn(|_| Vec::new());
    for (tick, e) in events {
        by_channel[usize::from(e.channel & 15)].push((tick, e));
    }
    let mut tracks: Vec<(usize, PartTrack)> = Vec::new();
    for (channel, events) in by_channel.into_iter().enumerate() {
        if events.is_empty() {
            continue;
        }
        let parts: Vec<Part> = PARTS
            .into_iter()
            .filter(|&p| parts_on[channel] & (1 << (p as u8)) != 0)
            .collect();
        let name = if parts.is_empty() {
            // Unreachable from a phrase (its edges come from its notes); named all the same.
            format!("Channel {}", channel + 1)
        } else {
            parts
                .iter()
                .map(|&p| part_name(p))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let first_part = parts.first().map_or(PARTS.len(), |&p| p as usize);
        tracks.push((
            first_part,
            PartTrack {
                name,
                channel: channel as u8,
                events,
            },
        ));
    }
    tracks.sort_by_key(|(first_part, t)| (*first_part, t.channel));
    let mut tracks: Vec<PartTrack> = tracks.into_iter().map(|(_, t)| t).collect();
    // A part spread over several channels (only hand-built phrases do that) would give two
    // tracks of the same name: tell them apart by channel.
    let names: Vec<String> = tracks.iter().map(|t| t.name.clone()).collect();
    for t in &mut tracks {
        if names.iter().filter(|n| **n == t.name).count() > 1 {
            t.name = format!("{} (channel {})", t.name, t.channel + 1);
        }
    }
    tracks
}

/// A track event at an absolute tick, before delta times are taken.
pub(super) type Placed<'a> = (u64, TrackEventKind<'a>);

/// Turns absolute ticks into delta times. Events must already be in tick order.
pub(super) fn with_deltas<'a>(placed: &[Placed<'a>]) -> Vec<TrackEvent<'a>> {
    let mut previous = 0;
    placed
        .iter()
        .map(|&(tick, kind)| {
            let delta = tick.saturating_sub(previous);
            previous = previous.max(tick);
            TrackEvent {
                // Lengths are capped at 2^28 − 1 ticks, so every delta fits.
                delta: u28::new(delta.min(MAX_LENGTH_TICKS) as u32),
                kind,
            }
        })
        .collect()
}

/// The conductor track: name, tempo and time signature at tick 0, end of track at `end_tick`.
pub(super) fn conductor_track(s: &ExportSettings, end_tick: u64) -> Vec<TrackEvent<'static>> {
    let micros_per_quarter = (MICROS_PER_MINUTE / s.tempo_bpm).round() as u32;
    let (numerator, denominator) = s.time_sig;
    let meta = |m| TrackEventKind::Meta(m);
    with_deltas(&[
        (
            0,
            meta(MetaMessage::TrackName(CONDUCTOR_TRACK_NAME.as_bytes())),
        ),
        (0, meta(MetaMessage::Tempo(u24::new(micros_per_quarter)))),
        (
            0,
            meta(MetaMessage::TimeSignature(
                numerator,
                denominator.max(1).trailing_zeros() as u8,
                CLOCKS_PER_CLICK,
                THIRTY_SECONDS_PER_QUARTER,
            )),
        ),
        (end_tick, meta(MetaMessage::EndOfTrack)),
    ])
}

/// A part track: its name, its note events, end of track at `end_tick`.
fn note_track(track: &PartTrack, end_tick: u64) -> Vec<TrackEvent<'_>> {
    let mut placed: Vec<Placed<'_>> = Vec::with_capacity(track.events.len() + 2);
    placed.push((
        0,
        TrackEventKind::Meta(MetaMessage::TrackName(track.name.as_bytes())),
    ));
    for &(tick, e) in &track.events {
        let (key, vel) = (u7::new(e.key), u7::new(e.velocity));
        let message = if e.on {
            MidiMessage::NoteOn { key, vel }
        } else {
            MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            }
        };
        placed.push((
            tick,
            TrackEventKind::Midi {
                channel: u4::new(e.channel),
                message,
            },
        ));
    }
    placed.push((end_tick, TrackEventKind::Meta(MetaMessage::EndOfTrack)));
    // Already in tick order (the sequencer emits in time order); the stable sort only guards
    // the delta times and keeps the order of events on the same tick.
    placed.sort_by_key(|&(tick, _)| tick);
    with_deltas(&placed)
}

/// Assembles and serialises the file.
fn encode(s: &ExportSettings, end_tick: u64, tracks: &[PartTrack]) -> Vec<u8> {
    let header = Header::new(Format::Parallel, Timing::Metrical(u15::new(s.ppq)));
    let mut smf = Smf::new(header);
    smf.tracks.push(conductor_track(s, end_tick));
    for t in tracks {
        smf.tracks.push(note_track(t, end_tick));
    }
    to_bytes(&smf)
}

/// The file's bytes. Writing into memory fails only for a track chunk over 4 GiB; the callers'
/// note limits keep a track under a few megabytes, so there is no error to report.
pub(super) fn to_bytes(smf: &Smf) -> Vec<u8> {
    let mut bytes = Vec::new();
    if smf.write_std(&mut bytes).is_err() {
        bytes.clear();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::phrase::Note;

    /// (tick, on, channel, key, velocity) of a track's note events.
    type Ev = (u64, bool, u8, u8, u8);

    fn note(start_beats: f64, len_beats: f64, key: u8, channel: u8, part: Part) -> Note {
        Note {
            start_beats,
            len_beats,
            key,
            velocity: 90,
            channel,
            part,
        }
    }

    /// One bar: a C chord tone and a bass C held the whole bar, melody E at beat 1.5 for an
    /// eighth, then G at beat 3 for a quarter.
    fn small_phrase(bass_channel: u8) -> Phrase {
        let mut p = Phrase::new(1);
        p.push(note(0.0, 4.0, 60, 0, Part::Chords));
        p.push(note(0.0, 4.0, 36, bass_channel, Part::Bass));
        p.push(note(1.5, 0.5, 64, 2, Part::Melody));
        p.push(note(3.0, 1.0, 67, 2, Part::Melody));
        p.finish();
        p
    }

    fn settings(tempo_bpm: f64, time_sig: (u8, u8), ppq: u16, loops: u32) -> ExportSettings {
        ExportSettings {
            tempo_bpm,
            time_sig,
            ppq,
            loops,
        }
    }

    /// A parsed file: header timing and, per track, (name, events with absolute ticks).
    struct Parsed<'a> {
        /// Ticks per quarter note from the header.
        ppq: u16,
        /// The header's format.
        format: Format,
        /// Per track, its events with absolute ticks.
        tracks: Vec<Vec<(u64, TrackEventKind<'a>)>>,
    }

    fn parse(bytes: &[u8]) -> Parsed<'_> {
        let smf = Smf::parse(bytes).expect("a valid SMF");
        let Timing::Metrical(ppq) = smf.header.timing else {
            panic!("expected metrical timing");
        };
        let tracks = smf
            .tracks
            .iter()
            .map(|t| {
                let mut tick = 0u64;
                t.iter()
                    .map(|e| {
                        tick += u64::from(u32::from(e.delta));
                        (tick, e.kind)
                    })
                    .collect()
            })
            .collect();
        Parsed {
            ppq: ppq.as_int(),
            format: smf.header.format,
            tracks,
        }
    }

    fn name(track: &[(u64, TrackEventKind)]) -> String {
        track
            .iter()
            .find_map(|(_, k)| match k {
                TrackEventKind::Meta(MetaMessage::TrackName(n)) => {
                    Some(String::from_utf8_lossy(n).into_owned())
                }
                _ => None,
            })
            .unwrap_or_default()
    }

    fn notes(track: &[(u64, TrackEventKind)]) -> Vec<Ev> {
        track
            .iter()
            .filter_map(|&(tick, k)| match k {
                TrackEventKind::Midi { channel, message } => match message {
                    MidiMessage::NoteOn { key, vel } => {
                        Some((tick, true, channel.as_int(), key.as_int(), vel.as_int()))
                    }
                    MidiMessage::NoteOff { key, vel } => {
                        Some((tick, false, channel.as_int(), key.as_int(), vel.as_int()))
                    }
                    other => panic!("unexpected message {other:?}"),
                },
                _ => None,
            })
            .collect()
    }

    /// The tick of the track's End of Track, which must be its last event.
    fn end(track: &[(u64, TrackEventKind)]) -> u64 {
        let last = track.last().expect("a non-empty track");
        assert_eq!(last.1, TrackEventKind::Meta(MetaMessage::EndOfTrack));
        last.0
    }

    #[test]
    fn four_four_at_960_ppq_places_every_event_by_hand() {
        let bytes = midi_file(&small_phrase(1), &settings(75.0, (4, 4), 960, 1));
        let f = parse(&bytes);
        assert_eq!((f.format, f.ppq), (Format::Parallel, 960));
        assert_eq!(f.tracks.len(), 4);
        // 75 BPM: 60 000 000 / 75 = 800 000 µs per quarter. 4/4: denominator 2^2.
        assert_eq!(
            f.tracks[0],
            [
                (
                    0,
                    TrackEventKind::Meta(MetaMessage::TrackName(b"Lofi Loom"))
                ),
                (
                    0,
                    TrackEventKind::Meta(MetaMessage::Tempo(u24::new(800_000)))
                ),
                (
                    0,
                    TrackEventKind::Meta(MetaMessage::TimeSignature(4, 2, 24, 8))
                ),
                (3840, TrackEventKind::Meta(MetaMessage::EndOfTrack)),
            ]
        );
        let names: Vec<String> = f.tracks.iter().map(|t| name(t)).collect();
        assert_eq!(names, ["Lofi Loom", "Chords", "Bass", "Melody"]);
        // One bar = 4 × 960 = 3840 ticks; beat 1.5 = 1440, beat 2 = 1920, beat 3 = 2880.
        assert_eq!(
            notes(&f.tracks[1]),
            [(0, true, 0, 60, 90), (3840, false, 0, 60, 0)]
        );
        assert_eq!(
            notes(&f.tracks[2]),
            [(0, true, 1, 36, 90), (3840, false, 1, 36, 0)]
        );
        assert_eq!(
            notes(&f.tracks[3]),
            [
                (1440, true, 2, 64, 90),
                (1920, false, 2, 64, 0),
                (2880, true, 2, 67, 90),
                (3840, false, 2, 67, 0)
            ]
        );
        for t in &f.tracks {
            assert_eq!(end(t), 3840);
        }
    }

    #[test]
    fn three_four_stretches_each_phrase_bar_to_the_host_bar() {
        let bytes = midi_file(&small_phrase(1), &settings(90.0, (3, 4), 480, 1));
        let f = parse(&bytes);
        assert_eq!(f.ppq, 480);
        // 60 000 000 / 90 = 666 666.7, rounded.
        assert!(f.tracks[0].contains(&(
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(666_667)))
        )));
        assert!(f.tracks[0].contains(&(
            0,
            TrackEventKind::Meta(MetaMessage::TimeSignature(3, 2, 24, 8))
        )));
        // A 3/4 bar is 3 × 480 = 1440 ticks; phrase beat b lands on b × 3/4 host beats:
        // 1.5 → 540, 2 → 720, 3 → 1080.
        assert_eq!(
            notes(&f.tracks[3]),
            [
                (540, true, 2, 64, 90),
                (720, false, 2, 64, 0),
                (1080, true, 2, 67, 90),
                (1440, false, 2, 67, 0)
            ]
        );
        assert!(f.tracks.iter().all(|t| end(t) == 1440));
        // 6/8 at 960: a bar is 3 quarter notes = 2880 ticks, denominator stored as 2^3.
        let bytes = midi_file(&small_phrase(1), &settings(75.0, (6, 8), 960, 1));
        let f = parse(&bytes);
        assert!(f.tracks[0].contains(&(
            0,
            TrackEventKind::Meta(MetaMessage::TimeSignature(6, 3, 24, 8))
        )));
        assert_eq!(notes(&f.tracks[3])[0], (1080, true, 2, 64, 90));
        assert_eq!(end(&f.tracks[1]), 2880);
    }

    #[test]
    fn loops_repeat_with_note_offs_before_note_ons_at_the_seam() {
        let bytes = midi_file(&small_phrase(1), &settings(75.0, (4, 4), 960, 2));
        let f = parse(&bytes);
        assert_eq!(
            notes(&f.tracks[1]),
            [
                (0, true, 0, 60, 90),
                (3840, false, 0, 60, 0),
                (3840, true, 0, 60, 90),
                (7680, false, 0, 60, 0)
            ]
        );
        assert_eq!(
            notes(&f.tracks[3])[4..],
            [
                (5280, true, 2, 64, 90),
                (5760, false, 2, 64, 0),
                (6720, true, 2, 67, 90),
                (7680, false, 2, 67, 0)
            ]
        );
        assert!(f.tracks.iter().all(|t| end(t) == 7680));
    }

    #[test]
    fn parts_sharing_a_channel_share_a_track() {
        let bytes = midi_file(&small_phrase(0), &ExportSettings::default());
        let f = parse(&bytes);
        let names: Vec<String> = f.tracks.iter().map(|t| name(t)).collect();
        assert_eq!(names, ["Lofi Loom", "Chords + Bass", "Melody"]);
        // Offs before ons at tick 0 and 3840, keys ascending within each: the sequencer's order.
        assert_eq!(
            notes(&f.tracks[1]),
            [
                (0, true, 0, 36, 90),
                (0, true, 0, 60, 90),
                (3840, false, 0, 36, 0),
                (3840, false, 0, 60, 0)
            ]
        );
        // The default tempo is 80 BPM: 750 000 µs.
        assert!(f.tracks[0].contains(&(
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(750_000)))
        )));
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        let s = settings(83.3, (7, 8), 960, 3);
        let a = midi_file(&small_phrase(1), &s);
        assert_eq!(a, midi_file(&small_phrase(1), &s));
        assert_eq!(&a[..4], b"MThd");
        // 7/8: 3.5 quarter notes = 3360 ticks per bar, at a tempo with no exact sample rate.
        let f = parse(&a);
        assert!(f.tracks.iter().all(|t| end(t) == 3 * 3360));
        assert_eq!(notes(&f.tracks[3])[0], (1260, true, 2, 64, 90));
    }

    #[test]
    fn humanized_positions_round_up_to_the_next_tick_like_the_sequencer() {
        let mut p = Phrase::new(1);
        // 0.0123 beat × 960 = 11.81 ticks → 12 (ends 1 beat later: 971.81 → 972);
        // 2.001 beats = 1920.96 → 1921; 3 + 1e-9 beats is within the sequencer's 1e-4-sample
        // slack of tick 2880, so it stays there.
        p.push(note(0.0123, 1.0, 62, 2, Part::Melody));
        p.push(note(2.001, 0.25, 64, 2, Part::Melody));
        p.push(note(3.0 + 1e-9, 0.5, 65, 2, Part::Melody));
        p.finish();
        let bytes = midi_file(&p, &settings(75.0, (4, 4), 960, 1));
        let f = parse(&bytes);
        let ticks: Vec<u64> = notes(&f.tracks[1]).iter().map(|e| e.0).collect();
        assert_eq!(ticks, [12, 972, 1921, 2161, 2880, 3360]);
    }

    #[test]
    fn out_of_range_settings_are_normalized_not_fatal() {
        let p = small_phrase(1);
        let odd = settings(f64::NAN, (5, 3), 0, 0);
        let n = odd.normalized(&p);
        assert_eq!(n, settings(DEFAULT_TEMPO_BPM, (4, 4), PPQ_RANGE.0, 1));
        assert_eq!(midi_file(&p, &odd), midi_file(&p, &n));
        assert_eq!(
            settings(1e9, (0, 4), 60_000, 1000).normalized(&p),
            settings(999.0, (4, 4), 9600, MAX_LOOPS)
        );
        // 8 bars of 64/1 at 9600 PPQ: 19.7 M ticks a pass, so only 13 passes fit in 2^28 ticks.
        let mut long = Phrase::new(8);
        long.finish();
        let s = settings(120.0, (64, 1), 9600, MAX_LOOPS).normalized(&long);
        assert_eq!(s.loops, 13);
        // An empty phrase is just the conductor track.
        let bytes = midi_file(&long, &ExportSettings::default());
        let f = parse(&bytes);
        assert_eq!(f.tracks.len(), 1);
        assert_eq!(end(&f.tracks[0]), 8 * 3840);
    }

    #[test]
    fn a_part_on_two_channels_gets_two_named_tracks() {
        let mut p = Phrase::new(1);
        p.push(note(0.0, 1.0, 60, 3, Part::Melody));
        p.push(note(1.0, 1.0, 62, 2, Part::Melody));
        p.push(note(0.0, 4.0, 40, 9, Part::Bass));
        p.finish();
        let bytes = midi_file(&p, &ExportSettings::default());
        let f = parse(&bytes);
        let names: Vec<String> = f.tracks.iter().map(|t| name(t)).collect();
        assert_eq!(
            names,
            [
                "Lofi Loom",
                "Bass",
                "Melody (channel 3)",
                "Melody (channel 4)"
            ]
        );
    }

    #[test]
    fn matches_the_sequencer_at_48_khz() {
        // 120 BPM at 48 kHz is 24 000 samples a beat = 25 samples a tick at 960 PPQ. The
        // sequencer places an event at ceil(position in samples), so its tick is
        // ceil(sample / 25) (the ceiling of a ceiling divided by a whole number).
        let mut p = Phrase::new(2);
        for (i, start) in [0.0, 0.37, 1.5, 2.013, 4.0, 5.75, 6.9]
            .into_iter()
            .enumerate()
        {
            p.push(note(start, 0.61, 60 + i as u8, (i % 3) as u8, PARTS[i % 3]));
        }
        p.finish();
        let s = settings(120.0, (3, 4), 960, 2);
        let bytes = midi_file(&p, &s);
        let f = parse(&bytes);
        let mut from_file: Vec<Ev> = f.tracks[1..].iter().flat_map(|t| notes(t)).collect();
        from_file.sort_by_key(|e| (e.0, e.2));
        let mut seq = Sequencer::new();
        let mut rec = Recorder::default();
        seq.queue(Box::new(p.clone()), &mut rec);
        let mut t = SimTransport::new(48_000.0, 120.0);
        t.time_sig = (3, 4);
        t.playing = true;
        // 2 loops × 2 bars × 3 beats × 24 000 samples.
        rec.run(&mut seq, &mut t, 288_000, 480);
        t.playing = false;
        rec.block(&mut seq, &mut t, 1);
        let mut from_sim: Vec<Ev> = rec
            .events
            .iter()
            .map(|e| {
                let ev = e.event;
                (
                    e.sample.div_ceil(25),
                    ev.on,
                    ev.channel,
                    ev.key,
                    ev.velocity,
                )
            })
            .collect();
        from_sim.sort_by_key(|e| (e.0, e.2));
        assert_eq!(from_file, from_sim);
        assert_eq!(from_file.len(), 2 * 2 * 7);
    }
}
