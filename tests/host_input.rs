//! MIDI input, in the built plugin through the CLAP host (`tests/common/`): the host sends
//! note events (and MIDI CCs) to the plugin's note input port.
//!
//! What it pins:
//! * **Thru** passes a note-on sent at block offset k to the output at offset k, for every
//!   block size, merged in time order with the sequencer's notes, and with the sound set to
//!   Built-in the keys start sounding on that very sample;
//! * a transport stop leaves a note played through sounding on the built-in keys;
//! * **Follow: Key**: two bars of A natural minor make the next phrase A Aeolian (or Dorian);
//! * **Follow: Chords**: a ii–V–I–vi voiced by hand over four bars in C becomes the next
//!   phrase's chords, numeral for numeral, with the bass on their roots;
//! * **bad input** never hangs a note: a note-off without its note-on, 128 keys at once,
//!   CC 123 and CC 120, the pedal, notes on the generator's own channels and keys, input while
//!   stopped, seeking and looping, and a note-on never followed by its note-off (the port
//!   "disconnected") then Thru off, bypass or deactivation. Every run checks that every
//!   note-on has one note-off and nothing sounds at the end (`check_pairing`); the plugin
//!   aborts on any allocation in `process()` (`assert_process_allocs`).

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

use clack_host::events::event_types::NoteExpressionType;
use clack_host::prelude::*;
use host::*;
use score::*;
use serde_json::{json, Value};
use transport::*;

/// 120 BPM at 48 kHz: 24 000 samples per beat.
const CLOCK: Clock = Clock {
    rate: 48_000,
    bpm: 120,
};
/// One 4/4 bar at [`CLOCK`], in samples.
const BAR: u64 = 96_000;
/// A channel the generator does not use (user channel 5).
const FREE: u16 = 4;

/// An instance with the test session and `params`.
fn instance_with(params: Value) -> PluginInstance<TestHost> {
    let mut instance = new_instance(load_entry());
    let state = state_bytes_with(&json_string(SESSION_JSON), params);
    load_state(&mut instance, &state).expect("the state loads");
    instance
}

/// The test parameters with a few changed.
fn params(changes: &[(&str, Value)]) -> Value {
    let mut p = test_params();
    for (id, value) in changes {
        p[*id] = value.clone();
    }
    p
}

/// The built-in band with every texture stage off, so nothing delays or smears the keys.
fn band_params() -> Value {
    let mut p = params(&[("sound", json!({"string": "built-in"}))]);
    for id in ["tone", "wobble", "drive", "dust", "crush", "space"] {
        p[id] = json!({"f32": 0.0});
    }
    p
}

/// The events a run sent on `channel`.
fn on_channel(heard: &[Heard], channel: u8) -> Vec<(u64, bool, u8, u8)> {
    heard
        .iter()
        .filter(|h| h.channel == channel)
        .map(|h| (h.sample, h.on, h.key, h.velocity))
        .collect()
}

/// The CLAP id of a parameter.
fn id_of(instance: &mut PluginInstance<TestHost>, name: &str) -> ClapId {
    param_id(instance, name)
}

#[test]
fn thru_lands_on_its_exact_sample_for_any_block_size() {
    let cycles: [&[u32]; 6] = [
        &BLOCK_CYCLE,
        &[1],
        &[64],
        &[1000],
        &[8192],
        &[37, 512, 4096],
    ];
    for blocks in cycles {
        let mut instance = instance_with(test_params());
        let blocks = blocks.to_vec();
        let label = format!("blocks {blocks:?}");
        let record = play(&mut instance, CLOCK, move |d| {
            d.block_sizes = blocks;
            d.play_from(0);
            // Beside the sequencer's notes (chords on channel 1 start at sample 0).
            d.note_on(0, FREE, 61, 100);
            d.note_on(12_345, FREE, 64, 90);
            d.note_off(30_001, FREE, 64);
            d.note_on(30_001, FREE, 67, 1);
            d.note_off(47_999, FREE, 61);
            d.note_off(48_000, FREE, 67);
            d.run_until(60_000);
            d.stop();
            d.run_for(1_000);
        });
        let heard = heard(&record, &label);
        assert_eq!(
            on_channel(&heard, FREE as u8),
            [
                (0, true, 61, 100),
                (12_345, true, 64, 90),
                (30_001, false, 64, 0),
                (30_001, true, 67, 1),
                (47_999, false, 61, 0),
                (48_000, false, 67, 0)
            ],
            "{label}"
        );
        // The sequencer plays on as it does without input.
        assert!(
            heard
                .iter()
                .any(|h| h.on && h.channel == 0 && h.sample == 0),
            "{label}: the chords start at sample 0"
        );
    }
}

/// The first sample of `samples` that is not exactly zero.
fn first_sound(samples: &[f32]) -> Option<usize> {
    samples.iter().position(|s| *s != 0.0)
}

#[test]
fn thru_plays_the_built_in_keys_from_the_note_on_sample() {
    let mut firsts = Vec::new();
    for blocks in [vec![1000u32], vec![64], vec![8192], BLOCK_CYCLE.to_vec()] {
        let mut instance = instance_with(band_params());
        let label = format!("blocks {blocks:?}");
        let mut audio = (Vec::new(), Vec::new());
        let record = play(&mut instance, CLOCK, |d| {
            d.block_sizes = blocks;
            d.audio = Some((Vec::new(), Vec::new()));
            // Stopped: the band is silent but for what is played through.
            d.note_on(20_777, FREE, 60, 100);
            d.note_off(40_000, FREE, 60);
            d.run_until(60_000);
            audio = d.audio.take().expect("audio kept");
        });
        let heard = heard(&record, &label);
        assert_eq!(
            on_channel(&heard, FREE as u8),
            [(20_777, true, 60, 100), (40_000, false, 60, 0)],
            "{label}"
        );
        let first = first_sound(&audio.0).expect("the keys sound");
        // The attack rises from zero on the note-on's sample itself: the first sample that is
        // not zero is the next one.
        assert_eq!(
            first, 20_778,
            "{label}: the keys start on the note-on's sample"
        );
        firsts.push((first, audio.0[first..first + 4_000].to_vec()));
    }
    // And sound the same whatever the blocks.
    for (first, samples) in &firsts[1..] {
        assert_eq!((*first, samples), (firsts[0].0, &firsts[0].1));
    }
}

/// Plays `bars` (MIDI keys held for a whole bar each, on user channel 1) from the song start
/// in an offline render, then `extra` more bars; returns the record and the session saved
/// afterwards.
fn play_bars(follow: &str, bars: &[&[u16]], extra: u64) -> (Record, Value) {
    let mut instance = instance_with(params(&[
        ("follow", json!({"string": follow})),
        ("bars", json!({"string": "4"})),
    ]));
    render_offline(&mut instance);
    let bars: Vec<Vec<u16>> = bars.iter().map(|b| b.to_vec()).collect();
    let record = play(&mut instance, CLOCK, move |d| {
        d.block_sizes = vec![1000, 512, 4096];
        d.play_from(0);
        for (i, keys) in bars.iter().enumerate() {
            let start = i as u64 * BAR;
            for &k in keys {
                d.note_on(start, 0, k, 80);
                d.note_off(start + BAR - 100, 0, k);
            }
        }
        d.run_until((bars.len() as u64 + extra) * BAR);
        d.stop();
        d.run_for(1_000);
    });
    let session = parse_saved(&save_state(&mut instance)).1;
    (record, session)
}

#[test]
fn follow_key_writes_the_next_phrase_in_the_key_played() {
    // A minor: Am with A B C D over it, then Dm with E F G A: all seven notes of A Aeolian.
    let (record, session) = play_bars(
        "key",
        &[&[57, 60, 64, 69, 71, 72, 74], &[50, 53, 57, 76, 77, 79, 81]],
        3,
    );
    heard(&record, "follow key");
    let progression = &session["progression"];
    assert_eq!(progression["key"], json!(9), "{progression}");
    assert!(
        progression["mode"] == json!("Aeolian") || progression["mode"] == json!("Dorian"),
        "{progression}"
    );
}

/// A ii–V–I–vi in C voiced by hand, one bar each: Dm7, G7 (shell plus fifth, over G), Cmaj7
/// over E, Am7.
const II_V_I_VI: [&[u16]; 4] = [
    &[50, 57, 60, 65],
    &[43, 53, 59, 62],
    &[52, 55, 59, 60],
    &[45, 55, 60, 64],
];

/// A saved progression's chords are ii7 V7 Imaj7 vi7, as numerals.
fn assert_ii_v_i_vi(progression: &Value) {
    let chords: Vec<&Value> = progression["bars"]
        .as_array()
        .unwrap_or_else(|| panic!("a phrase was written: {progression}"))
        .iter()
        .map(|b| &b["chord"])
        .collect();
    let numeral =
        |degree: u8, quality: &str| json!({"degree": degree, "shift": 0, "quality": quality});
    assert_eq!(
        chords,
        [
            &numeral(2, "Minor7"),
            &numeral(5, "Dominant7"),
            &numeral(1, "Major7"),
            &numeral(6, "Minor7")
        ],
        "{progression}"
    );
}

#[test]
fn follow_chords_writes_the_chords_played_into_the_next_phrase() {
    let (record, session) = play_bars("chords", &II_V_I_VI, 8);
    let heard = heard(&record, "follow chords");
    let progression = &session["progression"];
    assert_eq!(
        (&progression["key"], &progression["mode"]),
        (&json!(0), &json!("Ionian")),
        "{progression}"
    );
    assert_ii_v_i_vi(progression);
    // The new phrase plays from bar 9 (the end of the phrase playing when it was asked for):
    // its bass (channel 2) starts every bar on the chord's root, D G C A in 36–47.
    for (bar, root) in [(8u64, 38u8), (9, 43), (10, 36), (11, 45)] {
        let first = heard
            .iter()
            .find(|h| h.on && h.channel == 1 && h.sample >= bar * BAR && h.sample < (bar + 1) * BAR)
            .unwrap_or_else(|| panic!("a bass note in bar {}", bar + 1));
        assert_eq!(
            (first.sample, first.key),
            (bar * BAR, root),
            "bar {}",
            bar + 1
        );
    }
}

/// The captured progression is saved with the session, root and quality per bar, and given
/// back to Follow when the project reopens: a reopened instance with no phrase yet writes its
/// first phrase over it.
#[test]
fn a_captured_progression_is_saved_and_written_over_after_reopening() {
    let (_, mut session) = play_bars("chords", &II_V_I_VI, 8);
    let captured: Vec<(&Value, &Value, &Value)> = session["captured"]
        .as_array()
        .unwrap_or_else(|| panic!("a captured progression is saved: {session}"))
        .iter()
        .map(|c| (&c["root"], &c["quality"], &c["bass"]))
        .collect();
    assert_eq!(
        captured,
        [
            (&json!(2), &json!("Minor7"), &json!(2)),
            (&json!(7), &json!("Dominant7"), &json!(7)),
            (&json!(0), &json!("Major7"), &json!(4)),
            (&json!(9), &json!("Minor7"), &json!(9)),
        ]
    );
    // Reopened with nothing written yet: the first phrase (a fresh seed) is written at
    // activation, over the captured chords.
    session["progression"] = Value::Null;
    session["history"] = json!([]);
    session["history_pos"] = Value::Null;
    let mut instance = new_instance(load_entry());
    let state = state_bytes_with(
        &session.to_string(),
        params(&[
            ("follow", json!({"string": "chords"})),
            ("bars", json!({"string": "4"})),
        ]),
    );
    load_state(&mut instance, &state).expect("the state loads");
    play(&mut instance, CLOCK, |d| d.run_for(1_000));
    let reopened = parse_saved(&save_state(&mut instance)).1;
    assert_ii_v_i_vi(&reopened["progression"]);
    assert_eq!(reopened["captured"], session["captured"]);
}

#[test]
fn bad_input_never_hangs_a_note() {
    let mut instance = instance_with(test_params());
    // Where the notes played across the stop, seek and loop were sent.
    let mut sent = [0u64; 4];
    let record = play(&mut instance, CLOCK, |d| {
        d.play_from(0);
        // A note-off with no note-on, on a key the chords hold (channel 1, C4).
        d.note_off(5_000, 0, 60);
        // 128 keys at once on a free channel, then CC 123 (all notes off) there.
        for k in 0..128 {
            d.note_on(10_000, FREE, k, 100);
        }
        d.send(20_000, Input::Midi([0xB0 | FREE as u8, 123, 0]));
        // The pedal keeps released keys; CC 120 (all sound off) ends them.
        d.send(21_000, Input::Midi([0xB5, 64, 127]));
        d.note_on(21_000, 5, 70, 100);
        d.note_off(22_000, 5, 70);
        d.send(30_000, Input::Midi([0xB5, 120, 0]));
        // On the generator's own channel and key: the chords' C4 of bar 1, struck and released
        // while the chord holds it, and struck again before the chord ends.
        d.note_on(40_000, 0, 60, 100);
        d.note_off(50_000, 0, 60);
        d.note_on(90_000, 0, 60, 100);
        d.note_off(100_000, 0, 60);
        // A wildcard note-off ends everything.
        d.note_on(110_000, 7, 50, 100);
        d.send(
            120_000,
            Input::NoteOff {
                channel: None,
                key: None,
            },
        );
        // Held across a stop.
        d.note_on(125_000, FREE, 42, 100);
        d.run_until(130_000);
        // Input while stopped, then seeking and looping.
        d.stop();
        sent[0] = d.now + 10;
        d.note_on(sent[0], FREE, 40, 100);
        d.note_off(sent[0] + 100, FREE, 42);
        d.run_for(5_000);
        d.play_from(7);
        sent[1] = d.now + 3_000;
        d.note_off(sent[1], FREE, 40);
        d.set_loop(Some((4, 12)));
        d.style = WrapStyle::InsideBlock;
        sent[2] = d.now + 50_000;
        d.note_on(sent[2], FREE, 41, 100);
        d.run_wraps(WrapKind::Inside, 2);
        sent[3] = d.now + 10;
        d.note_off(sent[3], FREE, 41);
        d.run_for(5_000);
        d.stop();
        d.set_loop(None);
        d.run_for(1_000);
    });
    let heard = heard(&record, "bad input");
    let free = on_channel(&heard, FREE as u8);
    let ons_at_10k = free.iter().filter(|e| e.0 == 10_000 && e.1).count();
    let offs_at_20k = free.iter().filter(|e| e.0 == 20_000 && !e.1).count();
    assert_eq!((ons_at_10k, offs_at_20k), (128, 128));
    assert_eq!(
        on_channel(&heard, 5),
        [(21_000, true, 70, 100), (30_000, false, 70, 0)],
        "the pedal holds the note until CC 120"
    );
    // The stray note-off changed nothing: the chord's C4 still ends with the bar.
    let c4: Vec<_> = on_channel(&heard, 0)
        .into_iter()
        .filter(|e| e.2 == 60 && e.0 <= 100_000)
        .collect();
    // Bar 2's chord (59 64 65 69) has no C4: its end at the bar line waits for the player's.
    assert_eq!(
        c4,
        [
            (0, true, 60, 80),
            (40_000, false, 60, 0),
            (40_000, true, 60, 100),
            (90_000, false, 60, 0),
            (90_000, true, 60, 100),
            (100_000, false, 60, 0),
        ],
        "Thru and the chords share C4 without a hung or doubled note"
    );
    // Input while stopped goes through, and neither the start of playback, a seek nor the
    // host loop's wraps end a note played through: only its note-off does.
    let later: Vec<_> = free.into_iter().filter(|e| e.0 > 20_000).collect();
    assert_eq!(
        later,
        [
            (125_000, true, 42, 100),
            (sent[0], true, 40, 100),
            (sent[0] + 100, false, 42, 0),
            (sent[1], false, 40, 0),
            (sent[2], true, 41, 100),
            (sent[3], false, 41, 0)
        ]
    );
    let wraps: Vec<u64> = record.wraps.iter().map(|w| w.0).collect();
    assert!(
        wraps.len() == 2 && wraps.iter().all(|w| (sent[2]..sent[3]).contains(w)),
        "the loop wrapped while 41 was held: {wraps:?}, {sent:?}"
    );
}

#[test]
fn a_note_left_hanging_ends_with_thru_off_bypass_or_deactivation() {
    let mut instance = instance_with(test_params());
    let thru = id_of(&mut instance, "Thru");
    let bypass = id_of(&mut instance, "Bypass");
    // Thru switched off while a note is held: it ends on the first sample of that block.
    let record = play(&mut instance, CLOCK, |d| {
        d.block_sizes = vec![1000];
        d.note_on(1_500, FREE, 60, 100);
        d.run_until(5_000);
        d.set_param(thru, 0.0);
        d.run_until(8_000);
        d.note_off(8_500, FREE, 60); // never reaches the output: it already ended
        d.set_param(thru, 1.0);
        d.run_until(10_000);
    });
    assert_eq!(
        on_channel(&heard(&record, "thru off"), FREE as u8),
        [(1_500, true, 60, 100), (5_000, false, 60, 0)]
    );
    // Bypass.
    let record = play(&mut instance, CLOCK, |d| {
        d.block_sizes = vec![1000];
        d.play_from(0);
        d.note_on(2_000, FREE, 62, 100);
        d.run_until(6_000);
        d.set_param(bypass, 1.0);
        d.run_until(9_000);
        d.set_param(bypass, 0.0);
        d.stop();
        d.run_until(12_000);
    });
    assert_eq!(
        on_channel(&heard(&record, "bypass"), FREE as u8),
        [(2_000, true, 62, 100), (6_000, false, 62, 0)]
    );
    // Deactivated with a note held (the host's port went away mid-note): the next activation's
    // first block ends it.
    let first = play(&mut instance, CLOCK, |d| {
        d.block_sizes = vec![1000];
        d.note_on(500, FREE, 64, 100);
        d.run_until(2_000);
    });
    let second = play(&mut instance, CLOCK, |d| {
        d.block_sizes = vec![1000];
        d.run_until(2_000);
    });
    let mut both = first.calls.clone();
    let shift = first.calls.last().map_or(0, |c| c.start + u64::from(c.len));
    both.extend(second.calls.iter().cloned().map(|mut c| {
        c.start += shift;
        c
    }));
    let joined = Record {
        calls: both,
        ..Record::default()
    };
    assert_eq!(
        on_channel(&heard(&joined, "deactivated"), FREE as u8),
        [(500, true, 64, 100), (2_000, false, 64, 0)]
    );
}

#[test]
fn a_stop_does_not_cut_the_built_in_keys_of_a_note_played_through() {
    // The same note, held past the stop (`held`) and released at it; the band's sound after
    // the stop is the sequencer's releases plus, only when held, the note still sounding.
    let run = |held: bool| {
        let mut instance = instance_with(band_params());
        let mut audio = (Vec::new(), Vec::new());
        let record = play(&mut instance, CLOCK, |d| {
            d.block_sizes = vec![512];
            d.audio = Some((Vec::new(), Vec::new()));
            d.play_from(0);
            d.note_on(10_000, FREE, 84, 110);
            d.run_until(48_128);
            d.stop();
            d.note_off(if held { 96_000 } else { 48_128 }, FREE, 84);
            d.run_until(100_000);
            audio = d.audio.take().expect("audio kept");
        });
        heard(&record, "stop with the keys held");
        audio.0
    };
    let energy = |s: &[f32]| s.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>();
    let (held, released) = (run(true), run(false));
    // Identical up to the stop.
    assert_eq!(held[..48_128], released[..48_128]);
    let window = 60_000..90_000;
    let (a, b) = (energy(&held[window.clone()]), energy(&released[window]));
    assert!(
        a > 4.0 * b,
        "the held note sounds on after the stop: {a} vs {b} released"
    );
}

/// The test session played for two bars and a half with Follow set to `follow`, the Eb major
/// triad held on a free channel over samples `from..to`, in blocks of `blocks`.
fn play_live(follow: &str, blocks: &[u32], from: u64, to: u64) -> Vec<Heard> {
    let mut instance = instance_with(params(&[("follow", json!({"string": follow}))]));
    let blocks = blocks.to_vec();
    let label = format!("follow {follow}, blocks {blocks:?}");
    let record = play(&mut instance, CLOCK, move |d| {
        d.block_sizes = blocks;
        d.play_from(0);
        for k in [51, 55, 58] {
            d.note_on(from, FREE, k, 80);
            d.note_off(to, FREE, k);
        }
        d.run_until(5 * BAR / 2);
        d.stop();
        d.run_for(1_000);
    });
    heard(&record, &label)
}

/// The bass (channel 2) and melody (channel 3) events of `heard`, in a fixed order.
fn bass_and_melody(heard: &[Heard]) -> Vec<(u64, bool, u8, u8)> {
    let mut events: Vec<_> = heard
        .iter()
        .filter(|h| h.channel == 1 || h.channel == 2)
        .map(|h| (h.sample, h.on, h.channel, h.key))
        .collect();
    events.sort();
    events
}

#[test]
fn follow_live_moves_the_bass_and_melody_to_the_chord_held() {
    // Written (Follow off): bass D2 for bar 1, G2 for bar 2; melody C4 E4 G4 C5 | B3 D4 . D5.
    let written = bass_and_melody(&play_live("off", &[1000], 30_000, 150_000));
    assert_eq!(
        written[..12],
        [
            (0, true, 1, 38),
            (0, true, 2, 60),
            (24_000, false, 2, 60),
            (24_000, true, 2, 64),
            (36_000, false, 2, 64),
            (48_000, true, 2, 67),
            (84_000, false, 2, 67),
            (84_000, true, 2, 72),
            (96_000, false, 1, 38),
            (96_000, true, 1, 43),
            (108_000, false, 2, 72),
            (120_000, true, 2, 59),
        ]
    );
    // Eb major held from sample 30 000 (bar 1, beat 2¼) to 150 000 (bar 2, beat 3¼).
    // * The sounding D2 moves to Eb2 (39, the nearer Eb) at the next eighth-note line,
    //   36 000: 6 000 samples (125 ms) after the chord, within an eighth (12 000).
    // * Notes starting while it is held start moved: the G2 of bar 2 on Eb2 (39: 4 down, 8
    //   up), the melody on the nearest chord tone (C5 → Bb4, B3 → Bb3, D4 → Eb4; G4 is one).
    // * A melody note sounding at the change (E4) ends as written; each note-off ends the key
    //   its note-on was sent as, even after the chord is let go (the Eb2 ends at 192 000).
    // * After the chord is let go, notes start as written (D5 at 180 000, D2 at 192 000).
    let expected = [
        (0, true, 1, 38),
        (0, true, 2, 60),
        (24_000, false, 2, 60),
        (24_000, true, 2, 64),
        (36_000, false, 1, 38),
        (36_000, false, 2, 64),
        (36_000, true, 1, 39),
        (48_000, true, 2, 67),
        (84_000, false, 2, 67),
        (84_000, true, 2, 70),
        (96_000, false, 1, 39),
        (96_000, true, 1, 39),
        (108_000, false, 2, 70),
        (120_000, true, 2, 58),
        (132_000, false, 2, 58),
        (132_000, true, 2, 63),
        (144_000, false, 2, 63),
        (180_000, true, 2, 74),
        (192_000, false, 1, 39),
        (192_000, false, 2, 74),
        (192_000, true, 1, 38),
        (192_000, true, 2, 60),
    ];
    let cycles: [&[u32]; 5] = [&[1000], &BLOCK_CYCLE, &[64], &[8192], &[37, 512, 4096]];
    for blocks in cycles {
        // `heard` checks that every note-on has its note-off (nothing hangs).
        let live = bass_and_melody(&play_live("live", blocks, 30_000, 150_000));
        assert_eq!(live[..expected.len()], expected, "blocks {blocks:?}");
        // The rest of the run is as written (up to the stop, which lands on a block's end).
        let after = |events: &[(u64, bool, u8, u8)]| {
            events
                .iter()
                .filter(|e| e.0 > 192_000 && e.0 < 2 * BAR + BAR / 2)
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(after(&live), after(&written), "blocks {blocks:?}");
    }
}

/// A small seeded generator (SplitMix64) for the random input below.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1]`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / ((1u64 << 53) - 1) as f64
    }
}

/// One random event of the kinds the CLAP validator's note tests send a plugin with a CLAP
/// and MIDI note input: CLAP note-on, note-off, choke and expression; MIDI note-on, note-off,
/// channel pressure, poly pressure, pitch bend, any CC (the pedal and the all-notes-off
/// messages among them) and program change. `consistent` keeps the validator's "basic"
/// rules (no note-off, choke or expression for a note that is not held; no second note-on
/// of a held note); otherwise keys, channels and note ids are drawn freely
/// ("inconsistent").
fn validator_event(
    dice: &mut Dice,
    held: &mut Vec<(u16, u16, u32)>,
    next_id: &mut u32,
    consistent: bool,
) -> Option<Input> {
    let free = |dice: &mut Dice| {
        (
            dice.below(16) as u16,
            dice.below(128) as u16,
            dice.below(100) as u32,
        )
    };
    let clap = |kind, (channel, key, id): (u16, u16, u32), value| Input::Clap {
        kind,
        port: 0,
        channel: Some(channel),
        key: Some(key),
        note_id: Some(id),
        value,
    };
    let midi = |status: u8, channel: u16, a: u64, b: u64| {
        Input::Midi([status | channel as u8, a as u8 & 0x7F, b as u8 & 0x7F])
    };
    // A note to start: a fresh one when consistent (skipped if already held).
    let mut start = |dice: &mut Dice| {
        if !consistent {
            return Some(free(dice));
        }
        let (channel, key) = (dice.below(16) as u16, dice.below(128) as u16);
        if held.iter().any(|n| (n.0, n.1) == (channel, key)) {
            return None;
        }
        *next_id += 1;
        held.push((channel, key, *next_id));
        Some((channel, key, *next_id))
    };
    let velocity = dice.unit();
    let event = match dice.below(11) {
        0 => clap(ClapNote::On, start(dice)?, velocity),
        4 => {
            let (channel, key, _) = start(dice)?;
            midi(
                0x90,
                channel,
                u64::from(key),
                (velocity * 127.0).round() as u64,
            )
        }
        kind @ (1 | 2 | 3 | 5) => {
            // Of a held note (consistent) or of any.
            let note = if consistent {
                if held.is_empty() {
                    return None;
                }
                let ix = dice.below(held.len() as u64) as usize;
                if kind == 1 || kind == 5 {
                    held.swap_remove(ix)
                } else {
                    held[ix]
                }
            } else {
                free(dice)
            };
            match kind {
                1 => clap(ClapNote::Off, note, velocity),
                2 => clap(ClapNote::Choke, note, 0.0),
                3 => {
                    let (ty, value) = match dice.below(3) {
                        0 => (NoteExpressionType::Volume, 4.0 * velocity),
                        1 => (NoteExpressionType::Tuning, 256.0 * velocity - 128.0),
                        _ => (NoteExpressionType::Pressure, velocity),
                    };
                    clap(ClapNote::Expression(ty), note, value)
                }
                _ => midi(
                    0x80,
                    note.0,
                    u64::from(note.1),
                    (velocity * 127.0).round() as u64,
                ),
            }
        }
        6 => midi(0xD0, dice.below(16) as u16, dice.below(128), 0),
        7 => midi(
            0xA0,
            dice.below(16) as u16,
            dice.below(128),
            dice.below(128),
        ),
        8 => midi(
            0xE0,
            dice.below(16) as u16,
            dice.below(128),
            dice.below(128),
        ),
        9 => midi(
            0xB0,
            dice.below(16) as u16,
            dice.below(128),
            dice.below(128),
        ),
        _ => midi(0xC0, dice.below(16) as u16, dice.below(128), 0),
    };
    Some(event)
}

/// The CLAP validator's two note-input tests (`process-note-out-of-place-basic` and
/// `process-note-inconsistent`), made here because the validator cannot be installed where CI
/// runs: 512-sample blocks, each with random note events every 0–5 samples (so ~250 per
/// block), while the sequencer plays and the built-in band sounds. As the validator does, it
/// checks that every output sample is finite and not subnormal and that output events come in
/// time order inside their block (`heard`); beyond it, that no note hangs once the host ends
/// everything it sent (pedals up, CC 123 and CC 120 on every channel), and that the plugin
/// neither allocates in `process()` (`assert_process_allocs`) nor panics.
#[test]
fn random_note_input_as_the_clap_validator_sends_it() {
    const BLOCKS: u64 = 40;
    for consistent in [true, false] {
        let label = if consistent { "basic" } else { "inconsistent" };
        let mut instance = instance_with(band_params());
        let mut sent = 0usize;
        let mut audio = None;
        let record = play(&mut instance, CLOCK, |d| {
            let mut dice = Dice(1337 + u64::from(consistent));
            let (mut held, mut next_id) = (Vec::new(), 0);
            d.block_sizes = vec![512];
            d.audio = Some((Vec::new(), Vec::new()));
            d.play_from(0);
            for _ in 0..BLOCKS {
                let (start, end) = (d.now, d.now + 512);
                // As the validator: the next event 0–5 samples later (−6..=5, clamped at 0).
                let step = |dice: &mut Dice| dice.below(12).saturating_sub(6);
                let mut at = start + step(&mut dice);
                while at < end {
                    if let Some(event) =
                        validator_event(&mut dice, &mut held, &mut next_id, consistent)
                    {
                        d.send(at, event);
                        sent += 1;
                    }
                    at += step(&mut dice);
                }
                d.run_for(512);
            }
            let end = d.now;
            for channel in 0..16u8 {
                for cc in [64, 123, 120] {
                    d.send(end, Input::Midi([0xB0 | channel, cc, 0]));
                }
            }
            d.run_for(512);
            d.stop();
            d.run_for(96_000);
            audio = d.audio.take();
        });
        assert!(
            sent > 3_000 * BLOCKS as usize / 16,
            "{label}: {sent} events sent"
        );
        let heard = heard(&record, label);
        // The generator's parts play on channels 1–3 and 10.
        let thru_ons = heard
            .iter()
            .filter(|h| h.on && ![0, 1, 2, 9].contains(&h.channel))
            .count();
        assert!(
            thru_ons > 200,
            "{label}: only {thru_ons} note-ons came through"
        );
        let (left, right) = audio.expect("the audio was kept");
        for (ix, x) in left.iter().chain(&right).enumerate() {
            assert!(
                x.is_finite() && !x.is_subnormal(),
                "{label}: sample {ix} is {x:e}"
            );
        }
        assert!(
            left.iter().any(|x| x.abs() > 1e-3),
            "{label}: the band played"
        );
    }
}
