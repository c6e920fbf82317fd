//! "Last N bars" through the built plugin in a CLAP host (`tests/common/host.rs`): the
//! hand-written two-bar score (`tests/common/score.rs`) plays, Regenerate is flipped at bar 4 so
//! a second phrase takes over at a phrase boundary, two musician's notes are played through
//! (Thru), and at bar 18½ the plugin's own performance recorder is turned into the "Last 16
//! bars" file (through the debug build's `lofi_loom_debug_recent_midi`, the same function the
//! editor's Export calls). The file must hold, note for note, on exact ticks, keys, channels and
//! velocities, what the host received over song beats 8–72: notes begun earlier start at tick
//! 0, notes still sounding at the end (the held Thru note) end there, each on its part's track.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/host.rs"]
mod host;
#[path = "common/plugin_binary.rs"]
mod plugin_binary;
#[path = "common/score.rs"]
mod score;
#[path = "common/transport.rs"]
mod transport;

use host::*;
use midly::{MetaMessage, MidiMessage, Smf, TrackEventKind};
use score::*;
use std::time::Duration;
use transport::*;

/// 44.1 kHz at 90 BPM: 29 400 samples per beat.
const CLOCK: Clock = Clock {
    rate: 44_100,
    bpm: 90,
};
/// Samples per beat at [`CLOCK`].
const BEAT: u64 = 29_400;
/// Ticks per quarter note in the file.
const PPQ: u64 = 960;
/// Bars in the file.
const BARS: u64 = 16;
/// The window's end: bar 18 (the export is made in the middle of it), in beats.
const END_BEATS: u64 = 72;
/// The window's start, in beats.
const START_BEATS: u64 = END_BEATS - BARS * 4;
/// The Thru channel (not one of the parts').
const THRU_CHANNEL: u8 = 5;

/// The debug build's entry point (see `src/plugin/probe.rs`).
type RecentMidi = unsafe extern "C" fn(u32, *mut u8, usize) -> usize;

/// One note: start and end tick, channel, key, velocity, track name.
type FileNote = (u64, u64, u8, u8, u8, String);

/// The track a channel's notes go on, as the test parameters set the channels.
fn track_of(channel: u8) -> &'static str {
    match channel {
        0 => "Chords",
        1 => "Bass",
        2 => "Melody",
        9 => "Drums",
        THRU_CHANNEL => "Input (Thru)",
        _ => panic!("a note on channel {channel}"),
    }
}

/// The tick of run sample `sample` in the window, rounded to the nearest, clamped into it.
fn tick(sample: u64) -> u64 {
    let from_start = (sample * PPQ).saturating_sub(START_BEATS * BEAT * PPQ);
    ((2 * from_start + BEAT) / (2 * BEAT)).min(BARS * 4 * PPQ)
}

/// What the host received, as notes cut to the window.
fn received_notes(heard: &[Heard]) -> Vec<FileNote> {
    let end = END_BEATS * BEAT;
    let mut sounding = [[None::<(u64, u8)>; 128]; 16];
    let mut notes = Vec::new();
    let close = |notes: &mut Vec<FileNote>, ch: u8, key: u8, held: (u64, u8), at: u64| {
        if at > held.0 {
            notes.push((held.0, at, ch, key, held.1, track_of(ch).to_owned()));
        }
    };
    for h in heard.iter().filter(|h| h.sample < end) {
        let slot = &mut sounding[usize::from(h.channel)][usize::from(h.key)];
        if let Some(held) = slot.take() {
            close(&mut notes, h.channel, h.key, held, tick(h.sample));
        }
        if h.on {
            *slot = Some((tick(h.sample), h.velocity));
        }
    }
    for (ch, keys) in sounding.iter().enumerate() {
        for (key, held) in keys.iter().enumerate() {
            if let Some(held) = *held {
                close(&mut notes, ch as u8, key as u8, held, BARS * 4 * PPQ);
            }
        }
    }
    notes.sort();
    notes
}

/// The notes of a file, with the names of the tracks they are on.
fn file_notes(bytes: &[u8]) -> (Vec<String>, Vec<FileNote>) {
    let smf = Smf::parse(bytes).expect("the file parses");
    assert_eq!(smf.header.format, midly::Format::Parallel);
    assert_eq!(
        smf.header.timing,
        midly::Timing::Metrical(midly::num::u15::new(PPQ as u16))
    );
    let mut names = Vec::new();
    let mut notes = Vec::new();
    for track in &smf.tracks {
        let mut name = String::new();
        let mut now = 0u64;
        let mut sounding = [[None::<(u64, u8)>; 128]; 16];
        for e in track {
            now += u64::from(e.delta.as_int());
            match e.kind {
                TrackEventKind::Meta(MetaMessage::TrackName(n)) => {
                    name = String::from_utf8_lossy(n).into_owned();
                }
                TrackEventKind::Meta(MetaMessage::EndOfTrack) => {
                    assert_eq!(now, BARS * 4 * PPQ, "{name}: the track's end");
                }
                TrackEventKind::Midi { channel, message } => {
                    let ch = channel.as_int();
                    let (key, on_vel) = match message {
                        MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                            (key.as_int(), Some(vel.as_int()))
                        }
                        MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                            (key.as_int(), None)
                        }
                        other => panic!("{name}: unexpected {other:?}"),
                    };
                    let slot = &mut sounding[usize::from(ch)][usize::from(key)];
                    match on_vel {
                        Some(vel) => {
                            assert!(slot.is_none(), "{name}: {ch}/{key} started twice");
                            *slot = Some((now, vel));
                        }
                        None => {
                            let (start, vel) = slot.take().expect("a note-off ends a note");
                            notes.push((start, now, ch, key, vel, name.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(
            sounding.iter().flatten().all(Option::is_none),
            "{name}: a note hangs"
        );
        names.push(name);
    }
    notes.sort();
    (names, notes)
}

/// The note-ons heard in the two bars from bar `from`, relative to their start: (sample, on,
/// channel, key).
fn pass(heard: &[Heard], from: u64) -> Vec<(u64, bool, u8, u8)> {
    let (start, end) = (from * 4 * BEAT, (from + 2) * 4 * BEAT);
    heard
        .iter()
        .filter(|h| h.on && (start..end).contains(&h.sample) && h.channel != THRU_CHANNEL)
        .map(|h| (h.sample - start, h.on, h.channel, h.key))
        .collect()
}

#[test]
fn the_last_bars_file_holds_what_the_host_received() {
    let entry = load_entry();
    let mut instance = new_instance(entry);
    load_state(&mut instance, &state_bytes(&json_string(SESSION_JSON))).expect("the state loads");
    let regenerate = param_id(&mut instance, "Regenerate");
    // SAFETY: the plugin binary the host loaded; opening it again shares the loaded image.
    let library = unsafe { libloading::Library::new(plugin_binary::plugin_binary()) }
        .expect("the plugin binary opens");
    // SAFETY: the debug build exports this function with this signature.
    let recent_midi: RecentMidi = unsafe {
        *library
            .get::<RecentMidi>(b"lofi_loom_debug_recent_midi")
            .expect("the debug build exports lofi_loom_debug_recent_midi")
    };
    let mut file = Vec::new();
    let record = play(&mut instance, CLOCK, |d| {
        d.play_from(0);
        d.run_until(4 * 4 * BEAT);
        // A new phrase: it takes over at the next phrase boundary. The worker writes it
        // while the host waits here (a host may be late; nothing is timed).
        d.set_param(regenerate, 1.0);
        d.block(64);
        std::thread::sleep(Duration::from_secs(2));
        // Thru: one note inside the window, one held across its end.
        let ch = u16::from(THRU_CHANNEL);
        d.note_on(20 * BEAT + 1_000, ch, 64, 100);
        d.note_off(22 * BEAT, ch, 64);
        d.note_on(70 * BEAT + 77, ch, 67, 90);
        d.run_until(END_BEATS * BEAT + 2 * BEAT);
        // SAFETY: a null buffer of capacity 0 only asks for the length.
        let len = unsafe { recent_midi(BARS as u32, std::ptr::null_mut(), 0) };
        assert!(len > 0, "the recorder holds nothing");
        file = vec![0; len];
        // SAFETY: `file` is `len` bytes long.
        let written = unsafe { recent_midi(BARS as u32, file.as_mut_ptr(), len) };
        assert_eq!(written, len);
        d.note_off(d.now + 10, ch, 67);
        d.stop();
        d.run_for(5_000);
    });
    let heard = heard(&record, "last bars");
    let first = pass(&heard, 0);
    assert!(!first.is_empty());
    assert_eq!(first, pass(&heard, 2), "the first phrase loops unchanged");
    assert_ne!(first, pass(&heard, 16), "the second phrase plays by bar 16");
    let (names, notes) = file_notes(&file);
    assert_eq!(
        names,
        [
            "Lofi Loom",
            "Chords",
            "Bass",
            "Melody",
            "Drums",
            "Input (Thru)"
        ]
    );
    let expected = received_notes(&heard);
    for track in ["Chords", "Bass", "Melody", "Input (Thru)"] {
        assert!(
            expected.iter().any(|n| n.5 == track),
            "nothing on {track} in the window"
        );
    }
    assert!(
        expected.contains(&(
            tick(70 * BEAT + 77),
            BARS * 4 * PPQ,
            THRU_CHANNEL,
            67,
            90,
            "Input (Thru)".to_owned()
        )),
        "the held Thru note ends at the window's end"
    );
    assert!(
        expected.len() > 40,
        "only {} notes in 16 bars",
        expected.len()
    );
    assert_eq!(notes.len(), expected.len(), "how many notes");
    for (i, (got, want)) in notes.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "note {i}");
    }
}
