//! The built plugin in a CLAP host (`tests/common/host.rs`), playing the hand-written two-bar
//! score (`tests/common/score.rs`) on exact time (`tests/common/transport.rs`).
//!
//! What it pins:
//! * the factory and descriptor (id, name, `instrument` feature), the audio and note ports, the
//!   parameters a loaded state sets, and the plugin state format (a little-endian `u64` length
//!   followed by nice-plug's JSON, whose `session` field holds the session object; the 0.1.0
//!   form, a JSON-encoded string, still loads);
//! * a saved-state round trip, and a second instance reopened from those bytes playing the same;
//! * at 44.1 kHz / 90 BPM (whole samples per beat), 48 kHz / 91 BPM and 96 kHz / 77 BPM
//!   (fractional samples per beat, so "sample N, not N − 1" matters), with blocks of 1–8192
//!   samples: every note event on its exact song sample, key, channel and velocity, through
//!   ~2.5 phrase loops, a host loop (wrapped inside a block as REAPER does, split into two
//!   blocks at the wrap, and announced by a transport event in the middle of a block), a stop,
//!   and a seek;
//! * throughout: events sorted and inside their block, one note-off per note-on, silent audio.
//!
//! The debug build of the plugin aborts on any allocation inside `process()`
//! (`assert_process_allocs`), so getting to the end is also that check.

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

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::note_ports::{NoteDialects, NotePortInfoBuffer, PluginNotePorts};
use clack_host::prelude::*;
use host::*;
use score::*;
use serde_json::json;
use std::ffi::CStr;
use std::sync::atomic::Ordering;
use transport::*;

/// Literal expectations for one run, worked out by hand: ceil(beats × rate × 60 / bpm).
struct Pins {
    /// Beat 3.5: the melody's C5 (72).
    beat_3_5: u64,
    /// Beat 4: bar 2, G2 in the bass.
    beat_4: u64,
    /// Beat 7.5: the melody's D5 (74).
    beat_7_5: u64,
    /// Beat 8: the phrase's second time round.
    beat_8: u64,
}

/// The three runs: rate, tempo and the pins.
const RUNS: [(Clock, Pins); 3] = [
    // 29 400 samples per beat exactly.
    (
        Clock {
            rate: 44_100,
            bpm: 90,
        },
        Pins {
            beat_3_5: 102_900,
            beat_4: 117_600,
            beat_7_5: 220_500,
            beat_8: 235_200,
        },
    ),
    // 31 648.35… samples per beat: 4 beats = 126 593.41 → 126 594.
    (
        Clock {
            rate: 48_000,
            bpm: 91,
        },
        Pins {
            beat_3_5: 110_770,
            beat_4: 126_594,
            beat_7_5: 237_363,
            beat_8: 253_187,
        },
    ),
    // 74 805.19… samples per beat: 4 beats = 299 220.78 → 299 221.
    (
        Clock {
            rate: 96_000,
            bpm: 77,
        },
        Pins {
            beat_3_5: 261_819,
            beat_4: 299_221,
            beat_7_5: 561_039,
            beat_8: 598_442,
        },
    ),
];

/// All checks of one full-scenario run.
fn check_full_run(record: &Record, clock: Clock, pins: &Pins) {
    let label = format!("{} Hz, {} BPM", clock.rate, clock.bpm);
    let heard = heard(record, &label);
    // The test state sets MIDI only: exact zeros out.
    assert!(
        record.calls.iter().all(|c| c.silent),
        "{label}: MIDI only, yet the audio output is not silent"
    );
    check_pins(&heard, clock, pins, &label);
    check_phrase_repeats(&heard, clock, record.marks.loop_seek, &label);
    check_wraps(record, &heard, &label);
    check_stops_and_replay(record, &heard, clock, &label);
    // And the whole run, event by event.
    assert_same(&heard, &expected(&record.segments, clock), &label);
}

/// The literal pins of the opening: bar 1 on sample 0, the bar line at beat 4, two melody
/// notes, and the phrase's second time round.
fn check_pins(heard: &[Heard], clock: Clock, pins: &Pins, label: &str) {
    assert_eq!(
        at_sample(heard, 0),
        [
            (true, CHORDS, 60),
            (true, CHORDS, 64),
            (true, CHORDS, 65),
            (true, CHORDS, 69),
            (true, BASS, 38),
            (true, MELODY, 60)
        ],
        "{label}: bar 1 starts on sample 0"
    );
    assert_eq!(
        first_on(heard, BASS, 43, 0),
        Some(pins.beat_4),
        "{label}: bar 2 bass"
    );
    assert_eq!(
        at_sample(heard, pins.beat_4),
        [
            (false, CHORDS, 60),
            (false, CHORDS, 64),
            (false, CHORDS, 65),
            (false, CHORDS, 69),
            (false, BASS, 38),
            (true, CHORDS, 59),
            (true, CHORDS, 64),
            (true, CHORDS, 65),
            (true, CHORDS, 69),
            (true, BASS, 43)
        ],
        "{label}: the bar line at beat 4 (legato chords re-strike common tones)"
    );
    assert_eq!(
        first_on(heard, MELODY, 72, 0),
        Some(pins.beat_3_5),
        "{label}: C5 on beat 3.5"
    );
    assert_eq!(
        first_on(heard, MELODY, 74, 0),
        Some(pins.beat_7_5),
        "{label}: D5 on beat 7.5"
    );
    assert_eq!(
        first_on(heard, BASS, 38, 1),
        Some(pins.beat_8),
        "{label}: the phrase comes round again at beat 8"
    );
    for beats_x2 in [1, 2, 7, 8, 15, 16] {
        let exact = f64::from(beats_x2) / 2.0 * f64::from(clock.rate) * 60.0 / f64::from(clock.bpm);
        assert_eq!(
            clock.samples(i64::from(beats_x2)),
            (exact - 1e-4).ceil() as u64,
            "{label}: exact arithmetic agrees with the documented rule"
        );
    }
}

/// The phrase repeats exactly: the same events in each phrase loop of the opening (up to
/// `until`), each on its own ceil(position × spb), i.e. shifted by exactly the phrase length when
/// that is a whole number of samples.
fn check_phrase_repeats(heard: &[Heard], clock: Clock, until: u64, label: &str) {
    let loop_bound = |k: i64| clock.samples(k * PHRASE_HB);
    let in_loop = |k: i64| -> Vec<Heard> {
        heard
            .iter()
            .filter(|h| h.sample < until)
            .filter(|h| {
                let (lo, hi) = (loop_bound(k), loop_bound(k + 1));
                if h.on {
                    h.sample >= lo && h.sample < hi
                } else {
                    h.sample > lo && h.sample <= hi
                }
            })
            .copied()
            .collect()
    };
    let shape = |hs: &[Heard]| -> Vec<(bool, u8, u8, u8)> {
        hs.iter()
            .map(|h| (h.on, h.channel, h.key, h.velocity))
            .collect()
    };
    let (first, second, third) = (in_loop(0), in_loop(1), in_loop(2));
    assert_eq!(first.len(), 2 * SCORE.len(), "{label}: one phrase");
    assert_eq!(shape(&first), shape(&second), "{label}: phrase loop 2");
    assert!(
        !third.is_empty() && shape(&first).starts_with(&shape(&third)),
        "{label}: phrase loop 3 starts like loop 1"
    );
    if clock.samples(PHRASE_HB) * u64::from(clock.bpm) == 8 * 60 * u64::from(clock.rate) {
        let shift = clock.samples(PHRASE_HB);
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(
                a.sample + shift,
                b.sample,
                "{label}: loop 2 is loop 1 shifted"
            );
        }
    }
}

/// Host loop wraps, whichever way the host delivers them: everything sounding ends on the wrap
/// sample, then beat 2 (G4) plays on it.
fn check_wraps(record: &Record, heard: &[Heard], label: &str) {
    let wrap_events = [
        (false, CHORDS, 59),
        (false, CHORDS, 64),
        (false, CHORDS, 65),
        (false, CHORDS, 69),
        (false, BASS, 43),
        (false, MELODY, 62),
        (true, MELODY, 67),
    ];
    for kind in [WrapKind::Inside, WrapKind::Split, WrapKind::Event] {
        let count = record.wraps.iter().filter(|w| w.1 == kind).count();
        assert!(count >= 3, "{label}: {count} wraps of kind {kind:?}");
    }
    for &(w, kind) in &record.wraps {
        assert_eq!(
            at_sample(heard, w),
            wrap_events,
            "{label}: wrap ({kind:?}) at sample {w}"
        );
        let call = record
            .calls
            .iter()
            .find(|c| c.len > 0 && c.start <= w && w < c.start + u64::from(c.len))
            .expect("a block holds the wrap");
        let inside = call.start < w;
        assert_eq!(
            inside,
            matches!(kind, WrapKind::Inside | WrapKind::Event),
            "{label}: wrap ({kind:?}) at {w} in block at {}",
            call.start
        );
    }
}

/// Stop: every sounding note ends at sample 0 of the first stopped block, then silence. Replay
/// after a seek to beat 5: B3 starts on the first sample; bar 2's chord and bass, begun at beat
/// 4, are not chased, so the next chords and bass come at beat 8.
fn check_stops_and_replay(record: &Record, heard: &[Heard], clock: Clock, label: &str) {
    let marks = record.marks;
    let stopped: Vec<&Call> = record
        .calls
        .iter()
        .filter(|c| c.start >= marks.stop && c.start < marks.replay && c.len > 0)
        .collect();
    assert!(stopped.iter().all(|c| !c.playing));
    let released = &stopped[0].notes;
    assert!(
        !released.is_empty() && released.iter().all(|n| !n.on && n.time == 0),
        "{label}: stop releases at sample 0: {released:?}"
    );
    assert!(
        stopped[1..].iter().all(|c| c.notes.is_empty()),
        "{label}: nothing while stopped"
    );

    assert_eq!(
        at_sample(heard, marks.replay),
        [(true, MELODY, 59)],
        "{label}: replay from beat 5"
    );
    let next_bar_1 = marks.replay + clock.samples(6);
    assert_eq!(
        heard
            .iter()
            .find(|h| h.sample >= marks.replay && h.channel != MELODY)
            .map(|h| (h.sample, h.on, h.channel, h.key)),
        Some((next_bar_1, true, CHORDS, 60)),
        "{label}: no chasing after the seek"
    );
    let final_stop: Vec<&Call> = record
        .calls
        .iter()
        .filter(|c| c.start >= marks.final_stop && c.len > 0)
        .collect();
    let released = &final_stop[0].notes;
    assert!(
        !released.is_empty() && released.iter().all(|n| !n.on && n.time == 0),
        "{label}: the final stop releases at sample 0: {released:?}"
    );
}

/// Checks the factory's descriptor of the plugin.
fn check_descriptor(entry: &PluginEntry) {
    let factory = entry
        .get_plugin_factory()
        .expect("the entry has a plugin factory");
    let descriptors: Vec<_> = factory.plugin_descriptors().collect();
    assert_eq!(descriptors.len(), 1, "one plugin in the bundle");
    let d = descriptors[0];
    assert_eq!(d.id(), Some(PLUGIN_ID));
    assert_eq!(d.name(), Some(c"Lofi Loom"));
    assert_eq!(
        d.version().and_then(|v| v.to_str().ok()),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let features: Vec<&CStr> = d.features().collect();
    for wanted in [c"instrument", c"note-effect", c"stereo"] {
        assert!(
            features.contains(&wanted),
            "feature {wanted:?} in {features:?}"
        );
    }
}

/// Checks the ports: one stereo audio output, no audio input, one note output, and one note
/// input (for Thru and Follow) that takes CLAP notes and MIDI (for the pedal and CC 120/123).
fn check_ports(instance: &mut PluginInstance<TestHost>) {
    let handle = instance.plugin_handle();
    let audio: PluginAudioPorts = handle.get_extension().expect("audio-ports extension");
    assert_eq!(audio.count(&handle, true), 0, "no audio input");
    assert_eq!(audio.count(&handle, false), 1, "one audio output");
    let mut buffer = AudioPortInfoBuffer::new();
    let port = audio
        .get(&handle, 0, false, &mut buffer)
        .expect("audio output info");
    assert_eq!(port.channel_count, 2, "stereo output");
    let notes: PluginNotePorts = handle.get_extension().expect("note-ports extension");
    assert_eq!(notes.count(&handle, true), 1, "one note input");
    assert_eq!(notes.count(&handle, false), 1, "one note output");
    let mut buffer = NotePortInfoBuffer::new();
    assert!(notes.get(&handle, 0, false, &mut buffer).is_some());
    let mut buffer = NotePortInfoBuffer::new();
    let input = notes
        .get(&handle, 0, true, &mut buffer)
        .expect("note input info");
    assert!(
        input.supported_dialects.contains(NoteDialects::CLAP)
            && input.supported_dialects.contains(NoteDialects::MIDI),
        "the note input takes CLAP notes and MIDI"
    );
}

/// Reads parameter values through the CLAP `params` extension, by display name.
#[test]
fn the_built_plugin_plays_exact_samples_in_a_clap_host() {
    let entry = load_entry();
    check_descriptor(entry);
    let mut instance = new_instance(entry);
    check_ports(&mut instance);

    // Before activation, as a host reopening a project does.
    let session = saved_form(SESSION_JSON);
    load_state(&mut instance, &state_bytes(&json_string(SESSION_JSON)))
        .expect("the hand-written state loads");
    assert!(
        instance.access_handler(|h| h.value_rescans.get()) >= 1,
        "a loaded state asks the host to rescan parameter values"
    );
    assert_eq!(instance.access_handler(|h| h.rescans_off_main.get()), 0);
    // nice-plug reports a CLAP value as normalized × step count (through an f32): stepped
    // parameters as their step index, continuous ones as 0–1.
    let values = param_values(&mut instance);
    for (name, expected) in [
        ("Swing", 0.0),
        ("Humanize", 0.0),
        ("Energy", 0.5),
        ("Phrase length", 1.0),  // variant "2" of 1, 2, 4, 8
        ("Chords channel", 0.0), // channel 1 of 1–16
        ("Bass channel", 1.0),
        ("Melody channel", 2.0),
    ] {
        let value = param(&values, name);
        assert!(
            (value - expected).abs() < 1e-6,
            "{name}: {value}, expected {expected}"
        );
    }

    // Saved-state round trip: the same parameters, seed and progression.
    let saved = save_state(&mut instance);
    let (saved_state, saved_session) = parse_saved(&saved);
    assert_eq!(saved_session, session, "the session round-trips");
    assert_eq!(
        saved_state["params"],
        test_params(),
        "the parameters round-trip"
    );
    assert_eq!(saved_state["version"], json!(env!("CARGO_PKG_VERSION")));

    for (clock, pins) in &RUNS {
        let record = play(&mut instance, *clock, full_scenario);
        check_full_run(&record, *clock, pins);
    }
    let (restart, flush) = instance.access_shared_handler(|h| {
        (
            h.restart_requested.load(Ordering::SeqCst),
            h.flush_requested.load(Ordering::SeqCst),
        )
    });
    assert!(
        !restart && !flush,
        "no restart or parameter flush was asked for"
    );
    drop(instance);

    // A project reopened from the saved bytes plays the same notes.
    let mut reopened = new_instance(entry);
    load_state(&mut reopened, &saved).expect("the saved state loads");
    let clock = RUNS[1].0;
    let record = play(&mut reopened, clock, short_scenario);
    let heard = heard(&record, "reopened");
    assert_same(&heard, &expected(&record.segments, clock), "reopened");
}
