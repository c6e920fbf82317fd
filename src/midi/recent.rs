//! "Last N bars": what the performance recorder ([`crate::bridge::recent`]) holds, cut to the
//! last whole bars and written as a Standard MIDI File.
//!
//! The window ends at the start of the bar the transport was last in (a bar still playing is
//! not whole) and reaches back `bars` host bars. Only the latest unbroken pass of the song is
//! used: walking back from the newest event, the first one that lies later in the song than
//! the event after it (a host loop or a seek) ends the search, so a looped region is never
//! written twice over itself.
//!
//! Notes are paired per channel and key, as the host pairs them. A note still sounding at the
//! window's start begins at tick 0 (it was heard there); one still sounding at its end, or
//! never ended, ends there, so the file hangs no note. A note-on on a key already sounding ends
//! the earlier note at that tick.
//!
//! The file: format 1, [`DEFAULT_PPQ`]-style ticks from the settings, the conductor track
//! (tempo, time signature), then one named track per part in the order Chords, Bass, Melody,
//! Drums, and "Input (Thru)" when Thru notes were played; each note on the channel it was
//! sent on.

use super::export::{conductor_track, part_name, to_bytes, with_deltas, ExportSettings, Placed};
use crate::bridge::recent::PlayedEvent;
use crate::music::phrase::Part;
use midly::num::{u15, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEventKind};

/// The lengths the editor offers, in bars.
pub const RECENT_BAR_CHOICES: [u32; 3] = [8, 16, 32];

/// The name of the track of notes played through.
pub const THRU_TRACK_NAME: &str = "Input (Thru)";

/// The tracks, in file order: the four parts, then Thru.
const TRACKS: usize = 5;

/// One note as cut into the window, in ticks from the window's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutNote {
    /// Start tick (0 for a note already sounding when the window starts).
    pub start_tick: u64,
    /// End tick (at most the window's length).
    pub end_tick: u64,
    /// MIDI channel 0–15.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
    /// Note-on velocity.
    pub velocity: u8,
    /// Track index: 0–3 the parts (as [`Part`] numbers them), 4 Thru.
    pub track: usize,
}

/// The window: `bars` bars of `bar_beats` quarter notes ending at `end_beats`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Where the window ends, in song quarter notes (a bar line).
    pub end_beats: f64,
    /// How many bars it holds.
    pub bars: u32,
    /// One bar in quarter notes.
    pub bar_beats: f64,
}

impl Window {
    /// Where the window starts, in song quarter notes.
    pub fn start_beats(&self) -> f64 {
        self.end_beats - f64::from(self.bars) * self.bar_beats
    }

    /// The window's length in ticks at `ppq`.
    pub fn length_ticks(&self, ppq: u16) -> u64 {
        (f64::from(self.bars) * self.bar_beats * f64::from(ppq)).round() as u64
    }
}

/// The track an event goes on.
fn track(e: &PlayedEvent) -> usize {
    if e.thru {
        TRACKS - 1
    } else {
        e.part as usize
    }
}

/// The latest unbroken pass: the events from the last backwards jump in song position on.
fn latest_pass(events: &[PlayedEvent]) -> &[PlayedEvent] {
    let first = events
        .windows(2)
        .rposition(|w| w[0].pos_beats > w[1].pos_beats)
        .map_or(0, |i| i + 1);
    &events[first..]
}

/// Cuts `events` (oldest first, as recorded) to `window`, as the module docs say, in ticks at
/// `ppq`; notes sorted by start tick, then track, channel and key.
pub fn cut(events: &[PlayedEvent], window: &Window, ppq: u16) -> Vec<CutNote> {
    let start = window.start_beats();
    let length = window.length_ticks(ppq);
    let tick = |pos: f64| -> u64 {
        let t = ((pos - start) * f64::from(ppq)).round();
        (t.max(0.0) as u64).min(length)
    };
    // The note sounding on each channel and key: (start tick, velocity, track).
    let mut sounding = vec![[None::<(u64, u8, usize)>; 128]; 16];
    let mut notes = Vec::new();
    let close = |notes: &mut Vec<CutNote>, ch: u8, key: u8, held: (u64, u8, usize), end| {
        if end > held.0 {
            notes.push(CutNote {
                start_tick: held.0,
                end_tick: end,
                channel: ch,
                key,
                velocity: held.1,
                track: held.2,
            });
        }
    };
    for e in latest_pass(events) {
        if e.pos_beats >= window.end_beats {
            break;
        }
        let (ch, key) = (e.channel & 15, e.key & 127);
        let at = tick(e.pos_beats);
        let slot = &mut sounding[usize::from(ch)][usize::from(key)];
        if let Some(held) = slot.take() {
            close(&mut notes, ch, key, held, at);
        }
        if e.on {
            *slot = Some((at, e.velocity.max(1), track(e)));
        }
    }
    for (ch, keys) in sounding.iter().enumerate() {
        for (key, held) in keys.iter().enumerate() {
            if let Some(held) = *held {
                close(&mut notes, ch as u8, key as u8, held, length);
            }
        }
    }
    notes.sort_by_key(|n| (n.start_tick, n.track, n.channel, n.key));
    notes
}

/// The name of track `index`.
fn track_name(index: usize) -> &'static str {
    match index {
        0 => part_name(Part::Chords),
        1 => part_name(Part::Bass),
        2 => part_name(Part::Melody),
        3 => part_name(Part::Drums),
        _ => THRU_TRACK_NAME,
    }
}

/// Writes the last `window.bars` bars of `events` as a format 1 Standard MIDI File with
/// `settings`' tempo and PPQ (its time signature should be the one `window.bar_beats` came
/// from; its loops are not used).
pub fn recent_midi_file(
    events: &[PlayedEvent],
    window: &Window,
    settings: &ExportSettings,
) -> Vec<u8> {
    let ppq = settings
        .ppq
        .clamp(super::export::PPQ_RANGE.0, super::export::PPQ_RANGE.1);
    let (lo, hi) = super::export::FILE_TEMPO_RANGE_BPM;
    let tempo = if settings.tempo_bpm.is_finite() {
        settings.tempo_bpm.clamp(lo, hi)
    } else {
        super::export::DEFAULT_TEMPO_BPM
    };
    let end = window.length_ticks(ppq);
    let notes = cut(events, window, ppq);
    let mut smf = Smf::new(Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(ppq)),
    ));
    let conductor = ExportSettings {
        tempo_bpm: tempo,
        ..*settings
    };
    smf.tracks.push(conductor_track(&conductor, end));
    let meta = TrackEventKind::Meta;
    for index in 0..TRACKS {
        let mine: Vec<&CutNote> = notes.iter().filter(|n| n.track == index).collect();
        if index == TRACKS - 1 && mine.is_empty() {
            continue;
        }
        // (tick, off-before-on at the same tick, event).
        let mut placed: Vec<(u64, bool, TrackEventKind<'static>)> = Vec::new();
        for n in mine {
            let channel = u4::new(n.channel);
            let key = u7::new(n.key);
            placed.push((
                n.start_tick,
                true,
                TrackEventKind::Midi {
                    channel,
                    message: MidiMessage::NoteOn {
                        key,
                        vel: u7::new(n.velocity),
                    },
                },
            ));
            placed.push((
                n.end_tick,
                false,
                TrackEventKind::Midi {
                    channel,
                    message: MidiMessage::NoteOff {
                        key,
                        vel: u7::new(0),
                    },
                },
            ));
        }
        placed.sort_by_key(|&(tick, on, _)| (tick, on));
        let mut track: Vec<Placed<'static>> = vec![(
            0,
            meta(MetaMessage::TrackName(track_name(index).as_bytes())),
        )];
        track.extend(placed.into_iter().map(|(tick, _, kind)| (tick, kind)));
        track.push((end, meta(MetaMessage::EndOfTrack)));
        smf.tracks.push(with_deltas(&track));
    }
    to_bytes(&smf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use midly::TrackEvent;

    fn ev(pos_beats: f64, on: bool, channel: u8, key: u8, part: Part, thru: bool) -> PlayedEvent {
        PlayedEvent {
            pos_beats,
            on,
            channel,
            key,
            velocity: if on { 100 } else { 0 },
            part,
            thru,
        }
    }

    fn note(start_tick: u64, end_tick: u64, channel: u8, key: u8, track: usize) -> CutNote {
        CutNote {
            start_tick,
            end_tick,
            channel,
            key,
            velocity: 100,
            track,
        }
    }

    /// Two 4/4 bars ending at beat 16 (the window is beats 8–16).
    const WINDOW: Window = Window {
        end_beats: 16.0,
        bars: 2,
        bar_beats: 4.0,
    };

    #[test]
    fn notes_are_cut_to_the_window_with_exact_ticks() {
        let events = [
            // Before the window entirely.
            ev(2.0, true, 0, 60, Part::Chords, false),
            ev(3.0, false, 0, 60, Part::Chords, false),
            // Sounding across the start: starts at tick 0.
            ev(7.0, true, 1, 36, Part::Bass, false),
            ev(8.0, true, 9, 42, Part::Drums, false),
            ev(8.25, false, 9, 42, Part::Drums, false),
            ev(9.5, false, 1, 36, Part::Bass, false),
            ev(10.0, true, 2, 72, Part::Melody, false),
            ev(11.0, false, 2, 72, Part::Melody, false),
            // Thru, held across the end: closed at the end.
            ev(15.0, true, 0, 64, Part::Chords, true),
            // After the end.
            ev(16.0, false, 0, 64, Part::Chords, true),
            ev(16.0, true, 2, 74, Part::Melody, false),
        ];
        assert_eq!(
            cut(&events, &WINDOW, 960),
            vec![
                note(0, 1440, 1, 36, 1),
                note(0, 240, 9, 42, 3),
                note(1920, 2880, 2, 72, 2),
                note(6720, 7680, 0, 64, 4),
            ]
        );
    }

    #[test]
    fn a_retrigger_ends_the_earlier_note_and_a_stray_off_is_ignored() {
        let events = [
            ev(8.0, false, 0, 50, Part::Chords, false),
            ev(9.0, true, 0, 60, Part::Chords, false),
            ev(10.0, true, 0, 60, Part::Chords, false),
            ev(10.5, false, 0, 60, Part::Chords, false),
        ];
        assert_eq!(
            cut(&events, &WINDOW, 960),
            vec![note(960, 1920, 0, 60, 0), note(1920, 2400, 0, 60, 0)]
        );
    }

    #[test]
    fn only_the_latest_pass_of_a_loop_is_used() {
        let events = [
            // First pass over beats 8–16.
            ev(9.0, true, 2, 70, Part::Melody, false),
            ev(9.5, false, 2, 70, Part::Melody, false),
            ev(15.0, true, 2, 71, Part::Melody, false),
            // Loop back to beat 8: the note held at the wrap is ended there.
            ev(8.0, false, 2, 71, Part::Melody, false),
            ev(12.0, true, 2, 72, Part::Melody, false),
            ev(13.0, false, 2, 72, Part::Melody, false),
        ];
        assert_eq!(cut(&events, &WINDOW, 960), vec![note(3840, 4800, 2, 72, 2)]);
    }

    #[test]
    fn the_file_has_a_track_per_part_and_thru_only_when_played() {
        let settings = ExportSettings {
            tempo_bpm: 90.0,
            time_sig: (3, 4),
            ppq: 960,
            loops: 1,
        };
        let window = Window {
            end_beats: 6.0,
            bars: 2,
            bar_beats: 3.0,
        };
        let events = [
            ev(0.5, true, 1, 40, Part::Bass, false),
            ev(1.0, false, 1, 40, Part::Bass, false),
        ];
        let bytes = recent_midi_file(&events, &window, &settings);
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(smf.header.format, Format::Parallel);
        assert_eq!(smf.header.timing, Timing::Metrical(u15::new(960)));
        assert_eq!(smf.tracks.len(), 5);
        let name = |t: &[TrackEvent]| match t[0].kind {
            TrackEventKind::Meta(MetaMessage::TrackName(n)) => {
                String::from_utf8_lossy(n).into_owned()
            }
            _ => String::new(),
        };
        let names: Vec<String> = smf.tracks.iter().map(|t| name(t)).collect();
        assert_eq!(names, ["Lofi Loom", "Chords", "Bass", "Melody", "Drums"]);
        // Bass: on at 480, off at 960, end of track at 6 × 960.
        let bass: Vec<(u32, TrackEventKind)> = smf.tracks[2]
            .iter()
            .map(|e| (e.delta.as_int(), e.kind))
            .collect();
        assert_eq!(bass[1].0, 480);
        assert!(
            matches!(bass[1].1, TrackEventKind::Midi { channel, message: MidiMessage::NoteOn { key, .. } } if channel == 1 && key == 40)
        );
        assert_eq!(bass[2].0, 480);
        assert_eq!(
            bass[3],
            (4800, TrackEventKind::Meta(MetaMessage::EndOfTrack))
        );
        let with_thru = [ev(1.0, true, 0, 60, Part::Chords, true)];
        let smf_bytes = recent_midi_file(&with_thru, &window, &settings);
        let smf = Smf::parse(&smf_bytes).unwrap();
        assert_eq!(smf.tracks.len(), 6);
        assert_eq!(name(&smf.tracks[5]), THRU_TRACK_NAME);
    }
}
