//! Saved state through the CLAP `state` extension of the built plugin: corrupt sessions never
//! crash and keep the phrase (or start afresh), and the history, its position and the model
//! folder survive a save and reload.

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

use clack_host::prelude::PluginInstance;
use host::*;
use score::*;
use serde_json::json;
use transport::*;

/// The rate and tempo these tests play at: 31 648.35… samples per beat.
const CLOCK: Clock = Clock {
    rate: 48_000,
    bpm: 91,
};

#[test]
fn corrupt_sessions_never_crash_and_keep_the_phrase_or_start_afresh() {
    let entry = load_entry();
    let clock = CLOCK;
    let good = state_bytes(&json_string(SESSION_JSON));
    let good_session = saved_form(SESSION_JSON);
    let newer = SESSION_JSON.replacen("\"version\":1", "\"version\":99", 1);
    let bad_key = SESSION_JSON.replacen("\"key\":0", "\"key\":40", 1);
    let truncated = {
        let mut bytes = good.clone();
        bytes.truncate(40);
        bytes
    };
    // (what, state bytes, whether the state as a whole loads)
    let corrupt: Vec<(&str, Vec<u8>, bool)> = vec![
        (
            "session not JSON",
            state_bytes(&json_string("{not json")),
            true,
        ),
        (
            "session from a newer format",
            state_bytes(&json_string(&newer)),
            true,
        ),
        (
            "damaged progression",
            state_bytes(&json_string(&bad_key)),
            true,
        ),
        ("session field not a string", state_bytes("{not json"), true),
        (
            "state not JSON",
            length_prefixed(b"{definitely not json"),
            false,
        ),
        ("state truncated", truncated, false),
        ("empty stream", Vec::new(), false),
    ];

    // With a good session loaded first, nothing corrupt replaces it.
    let mut instance = new_instance(entry);
    load_state(&mut instance, &good).expect("the good state loads");
    let before = play(&mut instance, clock, short_scenario);
    let before_heard = heard(&before, "before");
    assert_same(
        &before_heard,
        &expected(&before.segments, clock),
        "before corrupt loads",
    );
    for (what, bytes, loads) in &corrupt {
        assert_eq!(load_state(&mut instance, bytes).is_ok(), *loads, "{what}");
        let (_, session) = parse_saved(&save_state(&mut instance));
        assert_eq!(session, good_session, "{what}: the good session is kept");
    }
    let after = play(&mut instance, clock, short_scenario);
    assert_same(
        &heard(&after, "after"),
        &before_heard,
        "the same notes after corrupt loads",
    );
    drop(instance);

    // With nothing valid ever loaded, the instance is as new: it keeps the default session
    // until activation, then writes its own first phrase with the embedded model (on the
    // worker thread, so when it arrives is not pinned here) and saves it.
    for (what, bytes, loads) in &corrupt {
        let mut instance = new_instance(entry);
        assert_eq!(load_state(&mut instance, bytes).is_ok(), *loads, "{what}");
        let (_, session) = parse_saved(&save_state(&mut instance));
        assert_eq!(session, empty_session(), "{what}");
        let record = play(&mut instance, clock, full_scenario);
        heard(&record, what); // every note-on still has its note-off
        assert!(record.calls.iter().any(|c| c.playing));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let written = loop {
            let (_, session) = parse_saved(&save_state(&mut instance));
            if !session["progression"].is_null() || std::time::Instant::now() > deadline {
                break session;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(
            written["progression"]["bars"]
                .as_array()
                .is_some_and(|b| [2, 4].contains(&b.len())),
            "{what}: the model wrote a phrase of the Phrase length set (2, or the default 4): {written}"
        );
        assert_ne!(
            written["seed"],
            empty_session()["seed"],
            "{what}: a fresh seed"
        );
        let history = written["history"].as_array().expect("a history");
        assert_eq!(
            history.len(),
            1,
            "{what}: the written phrase is in the history"
        );
        assert_eq!(history[0]["seed"], written["seed"], "{what}");
        assert_eq!(history[0]["progression"], written["progression"], "{what}");
        assert_eq!(written["history_pos"], json!(0), "{what}");
    }
}

/// A project saved with a history and a custom model folder reopens with both, unchanged:
/// back/forward and the model choice survive a save and reload (even when the folder is gone,
/// the choice stays; the worker falls back to the built-in model and says why).
#[test]
fn history_and_model_folder_round_trip_through_the_host() {
    let entry = load_entry();
    let mut session = saved_form(SESSION_JSON);
    let progression = session["progression"].clone();
    let mut older = progression.clone();
    older["key"] = json!(7);
    older["mode"] = json!("Dorian");
    session["history"] = json!([
        {"seed": 5, "progression": older, "energy": 0.25, "valence": 0.75},
        {"seed": 42, "progression": progression, "energy": 0.5, "valence": 0.5},
    ]);
    session["history_pos"] = json!(0);
    session["model_dir"] = json!("/nonexistent/my lofi model");
    let bytes = state_bytes(&json_string(&session.to_string()));

    let mut instance = new_instance(entry);
    load_state(&mut instance, &bytes).expect("the state loads");
    let saved_bytes = save_state(&mut instance);
    let (_, saved) = parse_saved(&saved_bytes);
    assert_eq!(
        saved, session,
        "history, position and model folder round-trip"
    );
    drop(instance);

    let mut reopened = new_instance(entry);
    load_state(&mut reopened, &saved_bytes).expect("the saved state loads");
    let (_, again) = parse_saved(&save_state(&mut reopened));
    assert_eq!(again, session, "and survive a second save");
}

/// Bypass is saved with the project: set by host automation while playing, it is in the saved
/// state, and a project reopened from it is still bypassed (no notes) until unbypassed.
#[test]
fn bypass_survives_a_save_and_reload() {
    let entry = load_entry();
    let mut instance = new_instance(entry);
    load_state(&mut instance, &state_bytes(&json_string(SESSION_JSON))).expect("loads");
    let bypass = param_id(&mut instance, "Bypass");
    let record = play(&mut instance, CLOCK, move |d| {
        d.play_from(0);
        d.run_until(d.clock.samples(4));
        d.set_param(bypass, 1.0);
        d.run_until(d.clock.samples(BAR_HB + 4));
        d.stop();
        d.run_for(4_096);
    });
    // Bypassing ends what sounds and plays nothing after.
    let bypassed_at = record
        .calls
        .iter()
        .find(|c| c.start >= CLOCK.samples(4))
        .map(|c| c.start)
        .expect("a block after the bypass");
    let heard_after: Vec<_> = heard(&record, "bypassed")
        .into_iter()
        .filter(|h| h.sample > bypassed_at)
        .collect();
    assert!(
        heard_after.is_empty(),
        "nothing after bypass: {heard_after:?}"
    );
    let saved = save_state(&mut instance);
    let (state, _) = parse_saved(&saved);
    assert_eq!(state["params"]["bypass"], json!({"bool": true}));
    drop(instance);

    let mut reopened = new_instance(entry);
    load_state(&mut reopened, &saved).expect("the saved state loads");
    assert_eq!(param_value(&mut reopened, bypass), 1.0, "still bypassed");
    let record = play(&mut reopened, CLOCK, |d| {
        d.play_from(0);
        d.run_until(d.clock.samples(BAR_HB));
        d.stop();
        d.run_for(4_096);
    });
    assert!(
        record.calls.iter().all(|c| c.notes.is_empty()),
        "a bypassed project plays nothing"
    );
    let record = play(&mut reopened, CLOCK, move |d| {
        d.set_param(bypass, 0.0);
        d.play_from(0);
        d.run_until(d.clock.samples(BAR_HB));
        d.stop();
        d.run_for(4_096);
    });
    assert!(
        record.calls.iter().any(|c| c.notes.iter().any(|n| n.on)),
        "unbypassed, it plays again"
    );
}

/// A session with drums (format 3) round-trips through the host exactly: the playing groove,
/// its seed, and each history entry's groove.
#[test]
fn the_groove_and_the_history_of_grooves_round_trip_through_the_host() {
    let entry = load_entry();
    let mut session = saved_form(SESSION_JSON);
    let groove = json!({"bars": [
        {"kick": "X.........x.....", "snare": "....X.......X...", "closed_hat": "x.x.x.x.x.x.x.x."},
        {"kick": "X.......x.x.....", "clap": "....X.......X..g", "open_hat": "..............x."}
    ]});
    session["groove"] = groove.clone();
    session["groove_seed"] = json!(99);
    let progression = session["progression"].clone();
    session["history"] = json!([
        {"seed": 5, "progression": progression, "energy": 0.25, "valence": 0.75},
        {"seed": 42, "progression": progression, "energy": 0.5, "valence": 0.5,
         "groove": groove, "groove_seed": 99},
    ]);
    session["history_pos"] = json!(1);
    let bytes = state_bytes(&json_string(&session.to_string()));

    // What the drums play: every channel-10 event of two bars (the groove's two), with its
    // sample, key and velocity.
    let drums_played = |instance: &mut PluginInstance<TestHost>| {
        let record = play(instance, CLOCK, |d| {
            d.play_from(0);
            d.run_until(d.clock.samples(2 * BAR_HB));
            d.stop();
            d.run_for(4_096);
        });
        heard(&record, "groove")
            .into_iter()
            .filter(|h| h.channel == 9)
            .map(|h| (h.sample, h.on, h.key, h.velocity))
            .collect::<Vec<_>>()
    };
    let mut instance = new_instance(entry);
    load_state(&mut instance, &bytes).expect("the state loads");
    let saved_bytes = save_state(&mut instance);
    assert_eq!(
        parse_saved(&saved_bytes).1,
        session,
        "the groove round-trips"
    );
    let played = drums_played(&mut instance);
    drop(instance);
    let mut reopened = new_instance(entry);
    load_state(&mut reopened, &saved_bytes).expect("the saved state loads");
    assert_eq!(parse_saved(&save_state(&mut reopened)).1, session);
    // It plays: bar 1 opens with the groove's kick and closed hat on channel 10.
    let replayed = drums_played(&mut reopened);
    let first: Vec<_> = replayed
        .iter()
        .filter(|h| h.1 && h.0 == 0)
        .map(|h| h.2)
        .collect();
    assert_eq!(first, [36, 42]);
    // The groove's hits, each with its note-off: 2 kicks, 2 snares and 8 closed hats in bar
    // 1; 3 kicks, 3 claps (one a ghost) and an open hat in bar 2; and bar 3's kick and hat,
    // which land on the last sample before the stop (the groove repeats).
    assert_eq!(replayed.len(), 2 * (12 + 7 + 2));
    // And the reopened project plays every drum event exactly as the saved one did.
    assert_eq!(replayed, played);
}
