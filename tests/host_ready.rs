//! Ready from the first sample, in the built plugin through the CLAP host (`tests/common/`):
//!
//! * a fresh instance (no saved state) holds its first phrase when activation returns, so bar
//!   1's chords and bass start on sample 0 (give or take the humanize spread), paced in real
//!   time and unpaced with the CLAP `render` extension set to offline;
//! * an offline bounce holds the same notes as real-time playback of the same seed, including
//!   a phrase the host's automation asks for just before the bar line where it is due;
//! * with Chase notes on, starting, seeking or looping into the middle of a chord starts the
//!   notes sounding there on that first sample, and they end where the phrase ends them.
//!
//! The humanize spread of bar 1 is the documented rule (`src/music/render.rs`): at the default
//! 25 % humanize, onsets move by at most 0.25 × 0.04 beat and a chord is strummed by 0.25 ×
//! 0.012 beat per voice above the lowest (at most 5): 0.025 beat, 600 samples at 120 BPM and
//! 48 kHz. Onsets never move before the phrase start.

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

use clack_host::prelude::*;
use host::*;
use score::*;
use serde_json::Value;
use transport::*;

/// 120 BPM at 48 kHz: 24 000 samples per beat.
const CLOCK: Clock = Clock {
    rate: 48_000,
    bpm: 120,
};
/// One 4/4 bar at [`CLOCK`], in samples.
const BAR: u64 = 96_000;
/// Latest a bar-1 onset may come: the humanize spread (module docs), 0.025 beat.
const SPREAD: u64 = 600;
/// Where the automation of the bounce test moves Energy: a quarter bar before the end of the
/// first 4-bar phrase, where the new phrase is due.
const ENERGY_MOVE: u64 = 4 * BAR - BAR / 4;
/// How long the bounce test plays.
const BOUNCE: u64 = 8 * BAR;

/// Note-ons of `channel` in the first bar.
fn bar_one_ons(heard: &[Heard], channel: u8) -> Vec<u64> {
    heard
        .iter()
        .filter(|h| h.on && h.channel == channel && h.sample < BAR)
        .map(|h| h.sample)
        .collect()
}

/// Bar 1 of a fresh instance's first phrase, `session` (as saved at activation): the kick
/// (channel 10; every groove has one on beat 1) and, when the first bar has a chord (the model
/// may leave a bar without one), the chord (channel 1 in user terms) and the bass (channel 2)
/// start within the humanize spread of sample 0.
fn check_bar_one(heard: &[Heard], session: &Value, label: &str) {
    let kicks: Vec<u64> = heard
        .iter()
        .filter(|h| h.on && h.channel == 9 && h.key == 36 && h.sample < BAR)
        .map(|h| h.sample)
        .collect();
    assert!(
        kicks.first().is_some_and(|&s| s <= SPREAD),
        "{label}: bar 1's kick starts at sample 0 (±{SPREAD}): {kicks:?}"
    );
    if session["progression"]["bars"][0]["chord"].is_null() {
        return;
    }
    let chords = bar_one_ons(heard, 0);
    let bass = bar_one_ons(heard, 1);
    assert!(
        chords.len() >= 3,
        "{label}: bar 1's chord is played: {chords:?}"
    );
    assert!(
        chords.iter().take(3).all(|&s| s <= SPREAD),
        "{label}: bar 1's chord starts at sample 0 (±{SPREAD}): {chords:?}"
    );
    assert!(
        bass.first().is_some_and(|&s| s <= SPREAD),
        "{label}: bar 1's bass starts at sample 0 (±{SPREAD}): {bass:?}"
    );
}

/// Plays from the song start for `samples`, then stops.
fn from_the_start(samples: u64) -> impl FnOnce(&mut Driver) + Send {
    move |d: &mut Driver| {
        d.play_from(0);
        d.run_until(samples);
        d.stop();
        d.run_for(4_096);
    }
}

/// The session a state holds.
fn session_of(instance: &mut PluginInstance<TestHost>) -> Value {
    parse_saved(&save_state(instance)).1
}

#[test]
fn a_fresh_instance_plays_bar_one_from_sample_zero_in_real_time() {
    let mut instance = new_instance(load_entry());
    let mut at_activation = Value::Null;
    let record = play_after(
        &mut instance,
        CLOCK,
        |i| at_activation = session_of(i),
        |d| {
            d.pace();
            from_the_start(BAR + BAR / 4)(d);
        },
    );
    assert!(
        at_activation["progression"].is_object(),
        "the first phrase is written when activation returns: {at_activation}"
    );
    check_bar_one(&heard(&record, "real time"), &at_activation, "real time");
}

/// The bounce: a fresh instance rendered offline, with Energy automated just before the bar
/// line where the first phrase ends, against real-time playback of the seed it chose, with
/// the same automation. Without waiting for the phrase the automation asks for, the bounce
/// would swap it in a phrase later than real time does.
#[test]
fn an_offline_bounce_holds_what_real_time_playback_plays() {
    let entry = load_entry();
    let script = |d: &mut Driver, energy: ClapId| {
        d.play_from(0);
        d.run_until(ENERGY_MOVE);
        d.set_param(energy, 0.8);
        d.run_until(BOUNCE);
        d.stop();
        d.run_for(4_096);
    };

    let mut bounced = new_instance(entry);
    render_offline(&mut bounced);
    let energy = param_id(&mut bounced, "Energy");
    let mut first_phrase = Vec::new();
    let offline = play_after(
        &mut bounced,
        CLOCK,
        |i| first_phrase = save_state(i),
        move |d| script(d, energy),
    );
    let offline = heard(&offline, "offline");
    check_bar_one(&offline, &parse_saved(&first_phrase).1, "offline");
    // The automation reached the bounce at the end of the first phrase: bar 5's chords are
    // louder than bar 1's (velocity 56 + 48 × energy, with humanize jitter of at most ±3.5).
    let velocity_at = |bar: u64| {
        offline
            .iter()
            .find(|h| h.on && h.channel == 0 && h.sample >= bar * BAR)
            .map(|h| h.velocity)
    };
    let (before, after) = (velocity_at(0), velocity_at(4));
    assert!(
        before.is_some_and(|v| v <= 84) && after.is_some_and(|v| v >= 90),
        "the new phrase plays from bar 5: velocities {before:?} then {after:?}"
    );

    let mut live = new_instance(entry);
    load_state(&mut live, &first_phrase).expect("the bounced instance's first state loads");
    let energy = param_id(&mut live, "Energy");
    let real_time = play(&mut live, CLOCK, move |d| {
        d.pace();
        script(d, energy)
    });
    assert_same(
        &offline,
        &heard(&real_time, "real time"),
        "offline vs real time",
    );
}

#[test]
fn an_offline_render_of_a_fresh_instance_plays_bar_one_from_sample_zero() {
    let mut instance = new_instance(load_entry());
    render_offline(&mut instance);
    let mut at_activation = Value::Null;
    let record = play_after(
        &mut instance,
        CLOCK,
        |i| at_activation = session_of(i),
        from_the_start(2 * BAR),
    );
    check_bar_one(&heard(&record, "offline"), &at_activation, "offline");
}

/// The hand-written score (`tests/common/score.rs`) with Chase notes on: at 2.5 beats into bar
/// 1 the Dm9 chord and the D bass sound, and the melody's G4 (beats 2–3.5) has an eighth and
/// more left: all start on the first sample and end where the score ends them; bar 2's chord
/// follows on its bar line with no doubled note.
#[test]
fn chasing_starts_the_notes_sounding_where_playback_starts() {
    let clock = Clock {
        rate: 48_000,
        bpm: 91,
    };
    let mut instance = new_instance(load_entry());
    let bytes = state_bytes_with(&json_string(SESSION_JSON), params_with(true));
    load_state(&mut instance, &bytes).expect("the state loads");

    let record = play(&mut instance, clock, |d| {
        d.play_from(5);
        d.run_until(d.clock.samples(BAR_HB * 2 - 5 + 3));
        d.stop();
        d.run_for(4_096);
    });
    let chased = heard(&record, "chased");
    let start = record.segments[0].start_sample;
    assert_eq!(
        at_sample(&chased, start),
        [
            (true, 0, 60),
            (true, 0, 64),
            (true, 0, 65),
            (true, 0, 69),
            (true, 1, 38),
            (true, 2, 67),
        ],
        "chord, bass and melody start on the first sample"
    );
    let bar_2 = start + clock.samples(BAR_HB - 5);
    assert_eq!(
        at_sample(&chased, bar_2),
        [
            (false, 0, 60),
            (false, 0, 64),
            (false, 0, 65),
            (false, 0, 69),
            (false, 1, 38),
            (true, 0, 59),
            (true, 0, 64),
            (true, 0, 65),
            (true, 0, 69),
            (true, 1, 43),
        ],
        "the chased chord and bass end on the bar line, bar 2's start once"
    );
    assert_same(
        &chased,
        &expected_with(&record.segments, clock, true),
        "chased",
    );

    // The whole transport scenario (loops wrapped three ways, stops, seeks) with chasing.
    let record = play(&mut instance, clock, full_scenario);
    assert_same(
        &heard(&record, "full, chased"),
        &expected_with(&record.segments, clock, true),
        "full scenario, chased",
    );
}
