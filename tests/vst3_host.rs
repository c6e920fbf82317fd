//! The built plugin through its VST3 interface (`tests/common/vst3.rs`), as a VST3 host drives
//! it: factory, component, processor and controller; `setupProcessing`, `setActive`,
//! `setProcessing`, `process` with a process context, an output event list and input parameter
//! changes; state through `IBStream`.
//!
//! What it pins:
//! * the bypass parameter survives a save and reload exactly as the Steinberg validator's
//!   "Parameter Bypass persistence" test checks it, without any of that test's error lines
//!   (vendored nice-plug fix 1, `vendor/README.md`), and a second instance reopened from the
//!   saved state is bypassed too;
//! * the VST3 state is nice-plug's bare JSON (no length prefix, unlike CLAP), and the
//!   hand-written session of `tests/common/score.rs` loaded through it plays bar 1 through the
//!   one event output bus on its exact samples, keys, channels and velocities, every note-on
//!   gets its note-off by the stop, and the audio output stays silent (the score sets MIDI only);
//! * 0-sample `process` calls (parameter flushes) succeed and neither send nor swallow notes;
//! * in offline mode (kOffline) a fresh instance plays its first
//!   bar from the first block.
//!
//! The debug plugin aborts on any allocation inside `process()` (`assert_process_allocs`), so
//! getting to the end of a test is also that check.

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
#[path = "common/vst3.rs"]
mod vst3_kit;

use host::{json_string, length_prefixed};
use score::*;
use serde_json::{json, Value};
use transport::{Clock, Segment};
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3_kit::*;

/// 24 000 samples per beat exactly: bar 1 is samples 0–95 999.
const CLOCK: Clock = Clock {
    rate: 48_000,
    bpm: 120,
};
/// The host's block size.
const BLOCK: i32 = 512;
/// Blocks that cover bar 1 (the last one reaches 256 samples into bar 2).
const BAR_1_BLOCKS: i64 = 188;

/// The test session as nice-plug's VST3 state: the CLAP state without its `u64` length prefix
/// (`getState`/`setState` in `vendor/nice-plug/src/wrapper/vst3/wrapper.rs` write and read the
/// JSON alone).
fn vst3_state() -> Vec<u8> {
    state_bytes(&json_string(SESSION_JSON))[8..].to_vec()
}

/// A plugin set up at [`CLOCK`] for `BLOCK`-sample blocks in `mode`, active and processing.
fn started(mode: ProcessModes, state: Option<&[u8]>) -> Vst3Plugin {
    let mut plugin = Vst3Plugin::new();
    if let Some(bytes) = state {
        // Before activation, as a host reopening a project does.
        assert_eq!(
            plugin.set_state(bytes),
            (kResultOk, kResultOk),
            "setState, setComponentState"
        );
    }
    plugin.setup(mode, f64::from(CLOCK.rate), BLOCK);
    assert_eq!(plugin.set_active(true), kResultOk, "setActive(true)");
    assert_eq!(
        plugin.set_processing(true),
        kResultOk,
        "setProcessing(true)"
    );
    plugin
}

/// The transport of the block starting at song sample `at`.
fn transport(playing: bool, at: i64) -> Option<Transport> {
    Some(Transport {
        playing,
        song_sample: at,
        bpm: f64::from(CLOCK.bpm),
    })
}

/// Checks what every block must satisfy and puts its notes on the song's sample timeline.
/// Tests that load the score's state (MIDI only) also check the audio is exact zeros.
fn block_notes(block: &Block, start: u64, label: &str) -> Vec<Heard> {
    let at = format!("{label}: block at {start} ({} samples)", block.len);
    assert_eq!(block.result, kResultOk, "{at}: process");
    assert_eq!(block.other_events, 0, "{at}: unexpected non-note events");
    let mut last = 0;
    block
        .notes
        .iter()
        .map(|n| {
            assert!(
                (0..block.len).contains(&n.offset) && n.offset >= last,
                "{at}: {n:?} outside the block or out of order: {:?}",
                block.notes
            );
            last = n.offset;
            assert_eq!(n.bus, 0, "{at}: {n:?} on the one event bus");
            let velocity = if n.on {
                let v = f64::from(n.velocity) * 127.0;
                assert!(
                    (v - v.round()).abs() < 1e-3,
                    "{at}: velocity {} is not a MIDI velocity",
                    n.velocity
                );
                v.round() as u8
            } else {
                assert_eq!(n.velocity, 0.0, "{at}: note-off velocity");
                0
            };
            Heard {
                sample: start + n.offset as u64,
                on: n.on,
                channel: u8::try_from(n.channel).expect("a channel"),
                key: u8::try_from(n.pitch).expect("a key"),
                velocity,
            }
        })
        .collect()
}

/// The saved state's `bypass` parameter, as nice-plug writes it (`{"bool": …}`).
fn saved_bypass(state: &[u8]) -> Value {
    let state: Value = serde_json::from_slice(state).expect("the VST3 state is bare JSON");
    state["params"]["bypass"].clone()
}

/// The Steinberg validator's "Parameter Bypass persistence" sequence
/// (`public.sdk/source/vst/testsuite/state/bypasspersistence.cpp`), with every check it makes
/// — including the two it only prints as ERROR lines — as an assertion: set bypass while
/// processing and read it back at once, flush with a 0-sample `process()` carrying the change,
/// save; clear it the same way; load the saved state: bypassed again.
#[test]
fn bypass_persists_as_the_vst3_validator_checks_it() {
    let mut plugin = started(ProcessModes_::kRealtime, None);
    let bypass_params: Vec<ParamID> = plugin
        .parameters()
        .iter()
        .filter(|p| p.flags & ParameterInfo_::ParameterFlags_::kIsBypass as int32 != 0)
        .map(|p| p.id)
        .collect();
    assert_eq!(bypass_params.len(), 1, "one kIsBypass parameter");
    let bypass = bypass_params[0];
    assert_eq!(bypass, plugin.param_id("Bypass"));
    assert_eq!(plugin.get(bypass), 0.0, "a new instance is not bypassed");
    // The validator stops processing first and flushes with no audio buffers at all.
    assert_eq!(plugin.set_processing(false), kResultOk);

    assert_eq!(plugin.set_processing(true), kResultOk);
    assert_eq!(plugin.set(bypass, 1.0), kResultOk);
    assert_eq!(
        plugin.get(bypass),
        1.0,
        "validator: \"The bypass parameter was not correctly set!\""
    );
    let flush = plugin.process(0, transport(false, 0), &[(bypass, 1.0)]);
    assert_eq!(flush.result, kResultOk, "the flush");
    assert_eq!(plugin.get(bypass), 1.0, "after the flush");
    assert_eq!(plugin.set_processing(false), kResultOk);
    let saved = plugin.get_state();
    assert_eq!(saved_bypass(&saved), json!({"bool": true}), "bypass saved");

    assert_eq!(plugin.set_processing(true), kResultOk);
    assert_eq!(plugin.set(bypass, 0.0), kResultOk);
    assert_eq!(
        plugin.get(bypass),
        0.0,
        "validator: \"The bypass parameter was not correctly set in the controller!\""
    );
    let flush = plugin.process(0, transport(false, 0), &[(bypass, 0.0)]);
    assert_eq!(flush.result, kResultOk, "the second flush");
    assert_eq!(plugin.get(bypass), 0.0, "after the second flush");
    assert_eq!(plugin.set_processing(false), kResultOk);

    assert_eq!(plugin.set_state(&saved), (kResultOk, kResultOk));
    assert_eq!(
        plugin.get(bypass),
        1.0,
        "validator: \"The bypass parameter is not in sync in the controller!\""
    );
    drop(plugin);

    // A project reopened from the saved state: a new instance, bypassed before it ever runs.
    let reopened = Vst3Plugin::new();
    assert_eq!(reopened.get(bypass), 0.0);
    assert_eq!(reopened.set_state(&saved), (kResultOk, kResultOk));
    assert_eq!(
        reopened.get(bypass),
        1.0,
        "the reopened instance is bypassed"
    );
}

/// The hand-written session, loaded through the VST3 state, plays bar 1 through the one event
/// output bus (beside the event input bus for MIDI in): every note on its sample, key, channel and velocity, all released at the stop.
#[test]
fn the_session_plays_through_the_vst3_event_bus() {
    let state = vst3_state();
    let mut plugin = started(ProcessModes_::kRealtime, Some(&state));
    assert_eq!(
        plugin.bus_count(
            MediaTypes_::kEvent as MediaType,
            BusDirections_::kOutput as BusDirection
        ),
        1,
        "one event output bus"
    );
    assert_eq!(
        plugin.bus_count(
            MediaTypes_::kEvent as MediaType,
            BusDirections_::kInput as BusDirection
        ),
        1,
        "one event input bus (MIDI in, for Thru and Follow)"
    );

    // The state reads back as bare JSON holding the loaded session.
    let saved = plugin.get_state();
    assert_eq!(saved.first(), Some(&b'{'), "the VST3 state is bare JSON");
    let (saved_state, session) = parse_saved(&length_prefixed(&saved));
    assert_eq!(session, saved_form(SESSION_JSON), "the session round-trips");
    assert_eq!(
        saved_state["params"],
        test_params(),
        "the parameters round-trip"
    );

    let mut all = Vec::new();
    let mut first_block = Vec::new();
    let mut now = 0;
    for index in 0..BAR_1_BLOCKS {
        let block = plugin.process(BLOCK, transport(true, now), &[]);
        assert!(
            block.silent,
            "MIDI only, yet the audio at {now} is not silent"
        );
        let notes = block_notes(&block, now as u64, "playing");
        if index == 0 {
            first_block = block.notes.clone();
        }
        all.extend(notes);
        now += i64::from(BLOCK);
    }
    let end = now as u64;
    for _ in 0..2 {
        let block = plugin.process(BLOCK, transport(false, end as i64), &[]);
        all.extend(block_notes(&block, now as u64, "stopped"));
        now += i64::from(BLOCK);
    }

    // Bar 1's chord (C4 E4 F4 A4 at velocity 80, channel 1), bass D2 (84, channel 2) and
    // melody C4 (88, channel 3) start at offset 0 of the first block.
    let wanted: [(i16, i16, u8); 6] = [
        (0, 60, 80),
        (0, 64, 80),
        (0, 65, 80),
        (0, 69, 80),
        (1, 38, 84),
        (2, 60, 88),
    ];
    let firsts: Vec<(i16, i16, f32)> = first_block
        .iter()
        .filter(|n| n.on && n.offset == 0)
        .map(|n| (n.channel, n.pitch, n.velocity))
        .collect();
    assert_eq!(
        firsts,
        wanted.map(|(c, k, v)| (c, k, f32::from(v) / 127.0)),
        "bar 1 starts at offset 0 of the first block"
    );
    check_pairing(&all, "bar 1");
    let segment = Segment {
        start_sample: 0,
        start_hb: 0,
        end_sample: Some(end),
    };
    assert_same(&all, &expected(&[segment], CLOCK), "bar 1 through VST3");
}

/// A 0-sample `process()` (a parameter flush, which VST3 allows at any time) returns
/// `kResultOk` and sends nothing, playing or stopped; the notes it did not send come in the next
/// real block, and notes sounding across it are released by the next real block, not by it.
#[test]
fn zero_sample_process_calls_succeed_and_send_nothing() {
    let state = vst3_state();
    let mut plugin = started(ProcessModes_::kRealtime, Some(&state));
    let humanize = plugin.param_id("Humanize");

    let flush = plugin.process(0, transport(true, 0), &[]);
    assert_eq!(flush.result, kResultOk);
    assert!(
        flush.notes.is_empty() && flush.other_events == 0,
        "{flush:?}"
    );
    // A flush carrying a parameter change (the value the state set) is no different.
    let flush = plugin.process(0, transport(true, 0), &[(humanize, 0.0)]);
    assert_eq!(flush.result, kResultOk);
    assert!(
        flush.notes.is_empty() && flush.other_events == 0,
        "{flush:?}"
    );

    let first = block_notes(&plugin.process(BLOCK, transport(true, 0), &[]), 0, "first");
    assert_eq!(
        at_sample(&first, 0),
        [
            (true, CHORDS, 60),
            (true, CHORDS, 64),
            (true, CHORDS, 65),
            (true, CHORDS, 69),
            (true, BASS, 38),
            (true, MELODY, 60)
        ],
        "bar 1 still starts on sample 0 after two flushes"
    );

    // Stopped now, with six notes sounding: the flush releases nothing, the next block does.
    let at = i64::from(BLOCK);
    let flush = plugin.process(0, transport(false, at), &[]);
    assert_eq!(flush.result, kResultOk);
    assert!(
        flush.notes.is_empty() && flush.other_events == 0,
        "{flush:?}"
    );
    let stopped = block_notes(
        &plugin.process(BLOCK, transport(false, at), &[]),
        at as u64,
        "stop",
    );
    assert_eq!(
        at_sample(&stopped, at as u64),
        [
            (false, CHORDS, 60),
            (false, CHORDS, 64),
            (false, CHORDS, 65),
            (false, CHORDS, 69),
            (false, BASS, 38),
            (false, MELODY, 60)
        ],
        "the stop releases everything at offset 0 of the first stopped block"
    );
    let mut all = first;
    all.extend(stopped);
    check_pairing(&all, "flushes");
}

/// An offline render (`processMode = kOffline`, blocks as fast as the host can go) of a fresh
/// instance, nothing loaded, from song sample 0: its first bar's kick (and chord, if the bar has
/// one) must start at offset 0 of the first block. The first phrase is written when activation
/// returns, and the vendored wrapper hands activation this setup's process mode. Humanize is
/// set to 0 first so nothing is strummed or jittered.
#[test]
fn an_offline_render_of_a_fresh_instance_starts_on_the_first_block() {
    let mut plugin = Vst3Plugin::new();
    let humanize = plugin.param_id("Humanize");
    assert_eq!(plugin.set(humanize, 0.0), kResultOk);
    plugin.setup(ProcessModes_::kOffline, f64::from(CLOCK.rate), BLOCK);
    assert_eq!(plugin.set_active(true), kResultOk, "setActive(true)");
    assert_eq!(plugin.set_processing(true), kResultOk);

    // One bar, as fast as possible.
    let bar = 4 * i64::from(CLOCK.rate) * 60 / i64::from(CLOCK.bpm);
    let mut bar_one = Vec::new();
    let mut now = 0;
    while now < bar {
        let changes = if now == 0 {
            vec![(humanize, 0.0)]
        } else {
            vec![]
        };
        let block = plugin.process(BLOCK, transport(true, now), &changes);
        bar_one.extend(block_notes(&block, now as u64, "offline"));
        now += i64::from(BLOCK);
    }
    // Every groove has a kick (General MIDI 36, channel 10) on beat 1.
    assert!(
        bar_one
            .iter()
            .any(|n| n.on && n.channel == 9 && n.key == 36 && n.sample == 0),
        "the first block holds bar 1's kick at offset 0: {bar_one:?}"
    );
    // The model may leave a bar without a chord; if bar 1 has one, it starts at offset 0.
    let chord_ons: Vec<&Heard> = bar_one
        .iter()
        .filter(|n| n.on && n.channel == CHORDS)
        .collect();
    assert!(
        chord_ons.is_empty()
            || (chord_ons.len() >= 3 && chord_ons[..3].iter().all(|n| n.sample == 0)),
        "bar 1's chord starts at offset 0: {chord_ons:?}"
    );
}

/// Notes sent to the event input bus come out of the event output bus at the same sample
/// offsets (Thru), beside the phrase's own notes.
#[test]
fn input_notes_pass_through_the_vst3_event_busses() {
    let state = vst3_state();
    let mut plugin = started(ProcessModes_::kRealtime, Some(&state));
    plugin.send_input(&[
        note_on_event(123, 4, 61, 100.0 / 127.0),
        note_off_event(400, 4, 61),
    ]);
    let block = plugin.process(BLOCK, transport(true, 0), &[]);
    let thru: Vec<_> = block
        .notes
        .iter()
        .filter(|n| n.channel == 4)
        .map(|n| (n.offset, n.on, n.pitch, (n.velocity * 127.0).round() as i32))
        .collect();
    assert_eq!(thru, [(123, true, 61, 100), (400, false, 61, 0)]);
    assert!(
        block
            .notes
            .iter()
            .any(|n| n.on && n.channel == 0 && n.offset == 0),
        "the phrase plays on: {:?}",
        block.notes
    );
}

/// MIDI controllers reach a VST3 plugin as parameter changes on the parameters its
/// `IMidiMapping` names. Through them: the sustain pedal (CC 64) holds a note released under
/// it until the pedal lifts; CC 123 (all notes off) ends a held note; CC 120 (all sound off)
/// ends a note held by the pedal. Each ending comes out at the offset of the change (0).
#[test]
fn the_pedal_and_all_notes_off_work_through_the_vst3_midi_mapping() {
    let state = vst3_state();
    let mut plugin = started(ProcessModes_::kRealtime, Some(&state));
    let (pedal, notes_off, sound_off) = (
        plugin.midi_controller_param(4, 64),
        plugin.midi_controller_param(4, 123),
        plugin.midi_controller_param(4, 120),
    );
    assert!(
        pedal != notes_off && notes_off != sound_off,
        "one parameter per controller"
    );
    let mut at = 0;
    let mut thru = Vec::new();
    let mut block = |plugin: &mut Vst3Plugin, events: &[Event], changes: &[(ParamID, f64)]| {
        plugin.send_input(events);
        let b = plugin.process(BLOCK, transport(true, at), changes);
        assert_eq!(b.result, kResultOk);
        thru.extend(
            b.notes
                .iter()
                .filter(|n| n.channel == 4)
                .map(|n| (at + i64::from(n.offset), n.on, n.pitch)),
        );
        at += i64::from(BLOCK);
    };
    let b = i64::from(BLOCK);
    // Block 1: pedal down, then 61 struck and released under it.
    block(
        &mut plugin,
        &[note_on_event(100, 4, 61, 0.8), note_off_event(300, 4, 61)],
        &[(pedal, 1.0)],
    );
    // Block 2: still held. Block 3: the pedal lifts.
    block(&mut plugin, &[], &[]);
    block(&mut plugin, &[], &[(pedal, 0.0)]);
    // Block 4: 62 struck; block 5: CC 123.
    block(&mut plugin, &[note_on_event(50, 4, 62, 0.8)], &[]);
    block(&mut plugin, &[], &[(notes_off, 0.0)]);
    // Block 6: pedal down, 64 struck and released; block 7: CC 120 with the pedal still down.
    block(
        &mut plugin,
        &[note_on_event(10, 4, 64, 0.8), note_off_event(20, 4, 64)],
        &[(pedal, 1.0)],
    );
    block(&mut plugin, &[], &[(sound_off, 0.0)]);
    assert_eq!(
        thru,
        [
            (100, true, 61),
            (2 * b, false, 61),
            (3 * b + 50, true, 62),
            (4 * b, false, 62),
            (5 * b + 10, true, 64),
            (6 * b, false, 64),
        ]
    );
}
