//! The two-bar session the playback and state tests load, its performance written out by hand,
//! the transport scenarios they play, and the model of what the host must hear.
//!
//! Expected notes come from a score written out by hand from the documented rules
//! (`src/music/render.rs`: bass = chord root in 36–47 held the whole bar, melody tonic 60 +
//! key, velocity base + rise × energy; `src/music/theory.rs`: the Dm9 and G13 voicings) and
//! are placed on samples with the sequencer's rule `ceil(beats × samples_per_beat − 1e-4)`, in
//! exact integer arithmetic. Nothing here calls the code under test to produce an expected
//! value.

// Shared by several test crates; each uses only part of it.
#![allow(dead_code)]

use super::host::length_prefixed;
use super::transport::{Clock, Driver, Record, Segment, WrapKind, WrapStyle};
use clack_host::prelude::*;
use serde_json::{json, Value};

/// One bar in half-beats (4/4).
pub const BAR_HB: i64 = 8;
/// The phrase length in half-beats: the state sets 2 bars.
pub const PHRASE_HB: i64 = 2 * BAR_HB;
/// The host loop of the loop scenario, in half-beats: beats 2–6.
pub const HOST_LOOP_HB: (i64, i64) = (4, 12);

/// The session the tests load: C Ionian, bar 1 ii (Dm7), bar 2 V (G7), with notes, holds and
/// rests. Written as text on purpose: this is the saved form the plugin must accept.
pub const SESSION_JSON: &str = r#"{"version":1,"seed":42,"progression":{"key":0,"mode":"Ionian","bars":[
{"chord":{"degree":2,"shift":0,"quality":"Minor7"},"melody":[{"Note":0},"Hold",{"Note":4},"Rest",{"Note":7},"Hold","Hold",{"Note":12}]},
{"chord":{"degree":5,"shift":0,"quality":"Dominant7"},"melody":["Hold","Rest",{"Note":-1},{"Note":2},"Rest","Rest","Hold",{"Note":14}]}]}}"#;

/// One note of the expected performance, on the half-beat grid of the 2-bar phrase.
#[derive(Debug, Clone, Copy)]
pub struct ScoreNote {
    /// Onset, in half-beats from the phrase start.
    pub start_hb: i64,
    /// End, in half-beats from the phrase start (at most [`PHRASE_HB`]: notes end at the loop).
    pub end_hb: i64,
    /// CLAP channel index (user channel − 1).
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
    /// MIDI velocity.
    pub velocity: u8,
}

pub const fn note(start_hb: i64, end_hb: i64, channel: u8, key: u8, velocity: u8) -> ScoreNote {
    ScoreNote {
        start_hb,
        end_hb,
        channel,
        key,
        velocity,
    }
}

/// Chords: channel index 0 (user channel 1), velocity 56 + 48 × 0.5 = 80.
pub const CHORDS: u8 = 0;
/// Bass: channel index 1 (user channel 2), velocity 60 + 48 × 0.5 = 84.
pub const BASS: u8 = 1;
/// Melody: channel index 2 (user channel 3), velocity 64 + 48 × 0.5 = 88.
pub const MELODY: u8 = 2;

/// What [`SESSION_JSON`] must sound like with swing 0, humanize 0, energy 0.5, phrase 2 bars:
///
/// * chords, whole bars: Dm7 → Dm9 (9th E is in C Ionian), rootless F A C E, voiced C4 E4 F4 A4
///   (60 64 65 69: the close stack nearest the register centre 62 without a semitone on top);
///   G7 → G13 (A and E are in the scale), rootless B E F A, led from Dm9 by moving C4 to B3
///   (59 64 65 69). Common tones are re-struck on the bar line.
/// * bass, whole bars: roots D and G in 36–47: 36 + 2 = 38, 36 + 7 = 43.
/// * melody, tonic C4 = 60: C4 (tied) on beats 0–1, E4 1–1.5, G4 2–3.5, C5 3.5–4.5 (tied across
///   the bar line), a rest, B3 (−1) 5–5.5, D4 5.5–6, rests (the hold after a rest is silent),
///   D5 (14) 7.5–8.
pub const SCORE: [ScoreNote; 17] = [
    note(0, 8, CHORDS, 60, 80),
    note(0, 8, CHORDS, 64, 80),
    note(0, 8, CHORDS, 65, 80),
    note(0, 8, CHORDS, 69, 80),
    note(8, 16, CHORDS, 59, 80),
    note(8, 16, CHORDS, 64, 80),
    note(8, 16, CHORDS, 65, 80),
    note(8, 16, CHORDS, 69, 80),
    note(0, 8, BASS, 38, 84),
    note(8, 16, BASS, 43, 84),
    note(0, 2, MELODY, 60, 88),
    note(2, 3, MELODY, 64, 88),
    note(4, 7, MELODY, 67, 88),
    note(7, 9, MELODY, 72, 88),
    note(10, 11, MELODY, 59, 88),
    note(11, 12, MELODY, 62, 88),
    note(15, 16, MELODY, 74, 88),
];

/// The parameters of the test state, in nice-plug's saved form (`ParamValue` is serde
/// `snake_case`: `{"f32":x}`, `{"i32":n}`, `{"bool":b}`, `{"string":"enum id"}`). All of them, so
/// a saved state can be compared whole. The sound is MIDI only: these tests are about notes, and
/// the audio must be exact zeros.
pub fn test_params() -> Value {
    params_with(false)
}

/// [`test_params`] with Chase notes `chase`.
pub fn params_with(chase: bool) -> Value {
    let mut params = json!({
        "energy": {"f32": 0.5},
        "valence": {"f32": 0.5},
        "swing": {"f32": 0.0},
        "humanize": {"f32": 0.0},
        "bars": {"string": "2"},
        "regen-mode": {"string": "manual"},
        "regenerate": {"bool": false},
        "swap-at": {"string": "phrase-end"},
        "key": {"string": "auto"},
        "mode": {"string": "auto"},
        "chords_on": {"bool": true},
        "chords_channel": {"i32": 1},
        "chords_octave": {"i32": 0},
        "bass_on": {"bool": true},
        "bass_channel": {"i32": 2},
        "bass_octave": {"i32": 0},
        "melody_on": {"bool": true},
        "melody_channel": {"i32": 3},
        "melody_octave": {"i32": 0},
        "bypass": {"bool": false},
        "lock-chords": {"bool": false},
        "lock-rhythm": {"bool": false},
        "chase": {"bool": chase},
        "drums_on": {"bool": true},
        "drums_channel": {"i32": 10},
        "drums_kit": {"string": "gm"},
        "lazy": {"f32": 30.0},
        "lock-drums": {"bool": false},
        "regenerate-drums": {"bool": false},
        "thru": {"bool": true},
        "follow": {"string": "off"},
    });
    // The built-in band: MIDI only, every other setting at its default.
    let sound = [
        ("sound", json!({"string": "midi-only"})),
        ("keys-level", json!({"f32": 0.0})),
        ("melody-level", json!({"f32": 0.0})),
        ("bass-level", json!({"f32": 0.0})),
        ("kit-level", json!({"f32": 0.0})),
        ("melody-voice", json!({"string": "soft-mallet"})),
        ("tone", json!({"f32": 35.0})),
        ("wobble", json!({"f32": 30.0})),
        ("drive", json!({"f32": 30.0})),
        ("dust", json!({"f32": 25.0})),
        ("crush", json!({"f32": 10.0})),
        ("space", json!({"f32": 25.0})),
        ("master", json!({"f32": 0.0})),
    ];
    for (id, value) in sound {
        params[id] = value;
    }
    params
}

/// A CLAP plugin state as nice-plug writes it: the JSON's length as a little-endian `u64`, then
/// `{"version","params","fields"}`. Each persisted field is stored as JSON text. `session_field`
/// is that field's raw text: Lofi Loom 0.1.0 stored the session as a JSON string there (pass
/// [`json_string`] of a session: the form these tests load, so old projects keep loading);
/// this build stores the session object itself (see [`parse_saved`]).
pub fn state_bytes(session_field: &str) -> Vec<u8> {
    state_bytes_with(session_field, test_params())
}

/// [`state_bytes`] with other parameters.
pub fn state_bytes_with(session_field: &str, params: Value) -> Vec<u8> {
    let state = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "params": params,
        "fields": {"session": session_field},
    });
    length_prefixed(&serde_json::to_vec(&state).expect("a JSON value serialises"))
}

/// Reads a saved state back: the whole JSON object and the session inside it.
pub fn parse_saved(bytes: &[u8]) -> (Value, Value) {
    assert!(
        bytes.len() >= 8,
        "saved state too short: {} bytes",
        bytes.len()
    );
    let (len, json) = bytes.split_at(8);
    let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    assert_eq!(
        len,
        json.len() as u64,
        "the length prefix counts the JSON that follows"
    );
    let state: Value = serde_json::from_slice(json).expect("the saved state is JSON");
    let field = state["fields"]["session"]
        .as_str()
        .expect("nice-plug stores each persisted field as JSON text");
    // The session is stored as its typed value: the field's text is the session object itself,
    // not (as in 0.1.0) a JSON string holding it.
    let session: Value = serde_json::from_str(field).expect("the session field is JSON");
    assert!(
        session.is_object(),
        "the session is saved as an object: {field}"
    );
    (state, session)
}

/// A session as this build saves it: `session` (written in format 1, as [`SESSION_JSON`])
/// upgraded to format 3, which adds an empty history and no custom model (and no groove, which
/// is left out of the saved form while there is none).
pub fn saved_form(session: &str) -> Value {
    let mut v: Value = serde_json::from_str(session).expect("the session is JSON");
    v["version"] = json!(3);
    v["history"] = json!([]);
    v["history_pos"] = Value::Null;
    v["model_dir"] = Value::Null;
    v
}

/// The session a fresh plugin saves: nothing loaded.
pub fn empty_session() -> Value {
    saved_form(r#"{"version": 1, "seed": 1, "progression": null}"#)
}

/// The full transport scenario of one run.
pub fn full_scenario(d: &mut Driver) {
    let clock = d.clock;
    // ~2.5 phrase loops from the song start. (No empty blocks: CLAP bounds a block's frame
    // count to [1, max] from activation on; 0-sample blocks are the sequencer tests' job.)
    d.play_from(0);
    d.run_until(clock.samples(41));
    // A host loop over beats 2–6; the user seeks into it at beat 3.
    d.set_loop(Some(HOST_LOOP_HB));
    d.play_from(6);
    d.record.marks.loop_seek = d.now;
    d.style = WrapStyle::InsideBlock;
    d.run_wraps(WrapKind::Inside, 3);
    d.style = WrapStyle::SplitBlocks;
    d.run_wraps(WrapKind::Split, 3);
    d.style = WrapStyle::TransportEvent;
    d.run_wraps(WrapKind::Event, 3);
    d.run_for(clock.samples(3));
    // Stop (inside the loop), loop off.
    d.stop();
    d.set_loop(None);
    d.record.marks.stop = d.now;
    d.run_for(20_000);
    // Play again after seeking to beat 5, for 13 beats.
    d.play_from(10);
    d.record.marks.replay = d.now;
    d.run_for(clock.samples(26));
    d.stop();
    d.record.marks.final_stop = d.now;
    d.run_for(10_000);
}

/// One phrase and a half from the song start, then a stop.
pub fn short_scenario(d: &mut Driver) {
    let clock = d.clock;
    d.play_from(0);
    d.run_until(clock.samples(PHRASE_HB + BAR_HB + 3));
    d.stop();
    d.run_for(5_000);
}

/// A note event on the run's sample timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Heard {
    /// Run sample.
    pub sample: u64,
    /// Note-on (true) or note-off; offs sort first at equal samples.
    pub on: bool,
    /// Channel index.
    pub channel: u8,
    /// Key.
    pub key: u8,
    /// MIDI velocity (0 for note-offs).
    pub velocity: u8,
}

/// What the score must sound like over `segments`: within a segment every note whose onset is
/// at or after the segment start plays at `start + ceil(Δbeats × spb)`; with `chase`, a note
/// begun before a start, seek or loop jump and still sounding there starts on the segment's
/// first sample (every such note of this score has at least an eighth left, the melody's
/// threshold: segments start on half-beats and notes end on them). At equal samples note-offs
/// come first, then by channel and key; at the segment's end everything still sounding is
/// released, by channel and key.
/// [`expected_with`] without chasing, as [`test_params`] sets.
pub fn expected(segments: &[Segment], clock: Clock) -> Vec<Heard> {
    expected_with(segments, clock, false)
}

pub fn expected_with(segments: &[Segment], clock: Clock, chase: bool) -> Vec<Heard> {
    let mut out = Vec::new();
    for seg in segments {
        let end = seg
            .end_sample
            .expect("every segment ends: runs end stopped");
        let at = |hb: i64| seg.start_sample + clock.samples(hb - seg.start_hb);
        let mut heard = Vec::new();
        let mut released = Vec::new();
        let mut phrase = seg.start_hb.div_euclid(PHRASE_HB);
        loop {
            let base = phrase * PHRASE_HB;
            if base >= seg.start_hb && at(base) >= end {
                break;
            }
            for n in SCORE {
                let mut on_hb = base + n.start_hb;
                let off_hb = base + n.end_hb;
                if chase && on_hb < seg.start_hb && off_hb > seg.start_hb {
                    // Chased: heard from the segment's first sample.
                    on_hb = seg.start_hb;
                }
                if on_hb < seg.start_hb || at(on_hb) >= end {
                    continue;
                }
                heard.push(Heard {
                    sample: at(on_hb),
                    on: true,
                    channel: n.channel,
                    key: n.key,
                    velocity: n.velocity,
                });
                let off = at(base + n.end_hb);
                if off < end {
                    heard.push(Heard {
                        sample: off,
                        on: false,
                        channel: n.channel,
                        key: n.key,
                        velocity: 0,
                    });
                } else {
                    released.push((n.channel, n.key));
                }
            }
            phrase += 1;
        }
        heard.sort();
        released.sort();
        out.extend(heard);
        out.extend(released.into_iter().map(|(channel, key)| Heard {
            sample: end,
            on: false,
            channel,
            key,
            velocity: 0,
        }));
    }
    out
}

/// Checks what every block must satisfy and flattens the notes onto the run's timeline.
pub fn heard(record: &Record, label: &str) -> Vec<Heard> {
    let mut out = Vec::new();
    for call in &record.calls {
        let at = format!("{label}: block at {} ({} samples)", call.start, call.len);
        assert_eq!(call.other_events, 0, "{at}: unexpected non-note events");
        if call.len == 0 {
            assert!(call.notes.is_empty(), "{at}: events in an empty block");
            continue;
        }
        assert_eq!(
            call.status,
            ProcessStatus::Continue,
            "{at}: KeepAlive expected"
        );
        assert!(call.finite, "{at}: the audio holds NaN or infinity");
        let mut last_time = 0;
        for n in &call.notes {
            assert!(n.time < call.len, "{at}: {n:?} outside the block");
            assert!(
                n.time >= last_time,
                "{at}: events not sorted: {:?}",
                call.notes
            );
            last_time = n.time;
            assert_eq!((n.port, n.note_id), (0, -1), "{at}: {n:?}");
            let channel = u8::try_from(n.channel).expect("a channel");
            let key = u8::try_from(n.key).expect("a key");
            assert!(channel < 16 && key < 128, "{at}: {n:?}");
            let velocity = if n.on {
                let v = n.velocity * 127.0;
                assert!(
                    (v - v.round()).abs() < 1e-3 && (1.0..=127.0).contains(&v.round()),
                    "{at}: velocity {} is not a MIDI velocity",
                    n.velocity
                );
                v.round() as u8
            } else {
                assert_eq!(n.velocity, 0.0, "{at}: note-off velocity");
                0
            };
            out.push(Heard {
                sample: call.start + u64::from(n.time),
                on: n.on,
                channel,
                key,
                velocity,
            });
        }
    }
    check_pairing(&out, label);
    out
}

/// Every note-on has exactly one later note-off on its channel and key, never two note-ons
/// without a note-off between, and nothing sounds at the end.
pub fn check_pairing(heard: &[Heard], label: &str) {
    let mut sounding = [[None::<u64>; 128]; 16];
    for h in heard {
        let slot = &mut sounding[h.channel as usize][h.key as usize];
        match (h.on, *slot) {
            (true, Some(since)) => panic!("{label}: {h:?} while sounding since {since}"),
            (false, None) => panic!("{label}: {h:?} without a note-on"),
            (true, None) => *slot = Some(h.sample),
            (false, Some(_)) => *slot = None,
        }
    }
    for (channel, keys) in sounding.iter().enumerate() {
        for (key, since) in keys.iter().enumerate() {
            assert!(
                since.is_none(),
                "{label}: channel {channel} key {key} still sounding at the end"
            );
        }
    }
}

/// Compares two event lists, showing the first difference in context.
pub fn assert_same(actual: &[Heard], expected: &[Heard], label: &str) {
    if actual == expected {
        return;
    }
    let first = actual
        .iter()
        .zip(expected)
        .position(|(a, e)| a != e)
        .unwrap_or(actual.len().min(expected.len()));
    let from = first.saturating_sub(4);
    let show = |list: &[Heard]| {
        list.iter()
            .enumerate()
            .skip(from)
            .take(10)
            .map(|(i, h)| format!("  #{i} {h:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    panic!(
        "{label}: {} events heard, {} expected; first difference at #{first}\nheard:\n{}\nexpected:\n{}",
        actual.len(),
        expected.len(),
        show(actual),
        show(expected)
    );
}

/// The events at run sample `sample`, as (on, channel, key).
pub fn at_sample(heard: &[Heard], sample: u64) -> Vec<(bool, u8, u8)> {
    heard
        .iter()
        .filter(|h| h.sample == sample)
        .map(|h| (h.on, h.channel, h.key))
        .collect()
}

/// The first note-on of `channel` and `key` at or after run sample `from`.
pub fn first_on(heard: &[Heard], channel: u8, key: u8, from: u64) -> Option<u64> {
    heard
        .iter()
        .find(|h| h.on && h.channel == channel && h.key == key && h.sample >= from)
        .map(|h| h.sample)
}
