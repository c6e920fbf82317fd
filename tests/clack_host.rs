//! Loads the BUILT plugin binary (`target/<profile>/deps/liblofi_loom.so`) through `clack-host`,
//! the way a real CLAP host does, and drives it with a simulated host transport.
//!
//! What it pins:
//! * the factory and descriptor (id, name, `instrument` feature), the audio and note ports, the
//!   parameters a loaded state sets, and the plugin state format (a little-endian `u64` length
//!   followed by nice-plug's JSON, whose `session` field holds the session object; the 0.1.0
//!   form, a JSON-encoded string, still loads);
//! * a saved-state round trip, and a second instance reopened from those bytes playing the same;
//! * at 44.1 kHz / 90 BPM (whole samples per beat), 48 kHz / 91 BPM and 96 kHz / 77 BPM
//!   (fractional samples per beat, so "sample N, not N − 1" matters), with blocks of 1–8192
//!   samples and a few empty ones: every note event on its exact song sample, key, channel and
//!   velocity, through ~2.5 phrase loops, a host loop (wrapped inside a block as REAPER does,
//!   split into two blocks at the wrap, and announced by a transport event in the middle of a
//!   block), a stop, and a seek;
//! * throughout: events sorted and inside their block, one note-off per note-on, silent audio;
//! * corrupt saved sessions never crash; the plugin keeps the phrase it had, or plays nothing.
//!
//! Expected notes come from a score written out by hand from the documented rules (`render.rs`:
//! bass = chord root in 36–47 held the whole bar, melody tonic 60 + key, velocity base + rise ×
//! energy; `theory.rs`: the Dm9 and G13 voicings) and are placed on samples with the sequencer's
//! rule `ceil(beats × samples_per_beat − 1e-4)`, in exact integer arithmetic. Nothing here calls
//! the code under test to produce an expected value.
//!
//! The debug build of the plugin aborts on any allocation inside `process()`
//! (`assert_process_allocs`), so getting to the end is also that check.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/plugin_binary.rs"]
mod plugin_binary;

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::note_ports::{NotePortInfoBuffer, PluginNotePorts};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::state::{HostState, HostStateImpl, PluginState, StateError};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_host::events::event_types::{TransportEvent, TransportFlags};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use serde_json::{json, Value};
use std::cell::Cell;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// The plugin's CLAP id.
const PLUGIN_ID: &CStr = c"com.lofiloom.lofi-loom";
/// Block sizes the simulated host cycles through, in samples.
const BLOCK_CYCLE: [u32; 7] = [1, 37, 64, 512, 1000, 4096, 8192];
/// The largest block, in samples (the activation's `max_frames_count`).
const MAX_BLOCK: u32 = 8192;
/// One bar in half-beats (4/4).
const BAR_HB: i64 = 8;
/// The phrase length in half-beats: the state sets 2 bars.
const PHRASE_HB: i64 = 2 * BAR_HB;
/// The host loop of the loop scenario, in half-beats: beats 2–6.
const HOST_LOOP_HB: (i64, i64) = (4, 12);
/// `2^31`: CLAP's fixed-point factor for beats and seconds.
const FIXED_ONE: i128 = 1 << 31;

// ---------------------------------------------------------------------------------------------
// The score, by hand
// ---------------------------------------------------------------------------------------------

/// The session the tests load: C Ionian, bar 1 ii (Dm7), bar 2 V (G7), with notes, holds and
/// rests. Written as text on purpose: this is the saved form the plugin must accept.
const SESSION_JSON: &str = r#"{"version":1,"seed":42,"progression":{"key":0,"mode":"Ionian","bars":[
{"chord":{"degree":2,"shift":0,"quality":"Minor7"},"melody":[{"Note":0},"Hold",{"Note":4},"Rest",{"Note":7},"Hold","Hold",{"Note":12}]},
{"chord":{"degree":5,"shift":0,"quality":"Dominant7"},"melody":["Hold","Rest",{"Note":-1},{"Note":2},"Rest","Rest","Hold",{"Note":14}]}]}}"#;

/// One note of the expected performance, on the half-beat grid of the 2-bar phrase.
#[derive(Debug, Clone, Copy)]
struct ScoreNote {
    /// Onset, in half-beats from the phrase start.
    start_hb: i64,
    /// End, in half-beats from the phrase start (at most [`PHRASE_HB`]: notes end at the loop).
    end_hb: i64,
    /// CLAP channel index (user channel − 1).
    channel: u8,
    /// MIDI key.
    key: u8,
    /// MIDI velocity.
    velocity: u8,
}

const fn note(start_hb: i64, end_hb: i64, channel: u8, key: u8, velocity: u8) -> ScoreNote {
    ScoreNote {
        start_hb,
        end_hb,
        channel,
        key,
        velocity,
    }
}

/// Chords: channel index 0 (user channel 1), velocity 56 + 48 × 0.5 = 80.
const CHORDS: u8 = 0;
/// Bass: channel index 1 (user channel 2), velocity 60 + 48 × 0.5 = 84.
const BASS: u8 = 1;
/// Melody: channel index 2 (user channel 3), velocity 64 + 48 × 0.5 = 88.
const MELODY: u8 = 2;

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
const SCORE: [ScoreNote; 17] = [
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
/// `snake_case`: `{"f32":x}`, `{"i32":n}`, `{"bool":b}`, `{"string":"enum id"}`). All twenty, so
/// a saved state can be compared whole.
fn test_params() -> Value {
    json!({
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
    })
}

/// A CLAP plugin state as nice-plug writes it: the JSON's length as a little-endian `u64`, then
/// `{"version","params","fields"}`. Each persisted field is stored as JSON text. `session_field`
/// is that field's raw text: Lofi Loom 0.1.0 stored the session as a JSON string there (pass
/// [`json_string`] of a session: the form these tests load, so old projects keep loading);
/// this build stores the session object itself (see [`parse_saved`]).
fn state_bytes(session_field: &str) -> Vec<u8> {
    let state = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "params": test_params(),
        "fields": {"session": session_field},
    });
    length_prefixed(&serde_json::to_vec(&state).expect("a JSON value serialises"))
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// `payload` behind its little-endian `u64` length, as nice-plug frames its CLAP state.
fn length_prefixed(payload: &[u8]) -> Vec<u8> {
    let mut bytes = (payload.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// Reads a saved state back: the whole JSON object and the session inside it.
fn parse_saved(bytes: &[u8]) -> (Value, Value) {
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
/// upgraded to format 2, which adds an empty history and no custom model.
fn saved_form(session: &str) -> Value {
    let mut v: Value = serde_json::from_str(session).expect("the session is JSON");
    v["version"] = json!(2);
    v["history"] = json!([]);
    v["history_pos"] = Value::Null;
    v["model_dir"] = Value::Null;
    v
}

/// The session a fresh plugin saves: nothing loaded.
fn empty_session() -> Value {
    saved_form(r#"{"version": 1, "seed": 1, "progression": null}"#)
}

// ---------------------------------------------------------------------------------------------
// The host
// ---------------------------------------------------------------------------------------------

/// Which host thread the current thread is, for the `thread-check` extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ThreadRole {
    /// A thread the host did not start (e.g. the plugin's worker).
    Other,
    /// The thread that made the plugin instance.
    Main,
    /// The thread that calls `process()`.
    Audio,
}

thread_local! {
    /// This thread's role; a const-initialised `Cell`, so reading it inside the plugin's
    /// `process()` never allocates.
    static ROLE: Cell<ThreadRole> = const { Cell::new(ThreadRole::Other) };
}

fn set_role(role: ThreadRole) {
    ROLE.with(|r| r.set(role));
}

fn role() -> ThreadRole {
    ROLE.with(|r| r.get())
}

/// Host callbacks that any thread may call.
#[derive(Default)]
struct HostShared {
    /// The plugin asked for `on_main_thread` (written by any plugin thread).
    callback_requested: AtomicBool,
    /// The plugin asked to be restarted.
    restart_requested: AtomicBool,
    /// The plugin asked for a parameter flush.
    flush_requested: AtomicBool,
}

impl<'a> SharedHandler<'a> for HostShared {
    fn request_restart(&self) {
        self.restart_requested.store(true, Ordering::SeqCst);
    }

    fn request_process(&self) {}

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        eprintln!("[plugin {severity}] {message}");
    }
}

impl HostThreadCheckImpl for HostShared {
    fn is_main_thread(&self) -> bool {
        role() == ThreadRole::Main
    }

    fn is_audio_thread(&self) -> bool {
        role() == ThreadRole::Audio
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// Host callbacks of the main thread.
#[derive(Default)]
struct HostMain {
    /// `params.rescan` calls asking for values (a loaded state must trigger one).
    value_rescans: Cell<u32>,
    /// `params.rescan` calls made off the main thread (must stay 0).
    rescans_off_main: Cell<u32>,
}

impl<'a> MainThreadHandler<'a> for HostMain {}

impl HostStateImpl for HostMain {
    // The test saves explicitly whenever it wants the state.
    fn mark_dirty(&self) {}
}

impl HostParamsImplMainThread for HostMain {
    fn rescan(&self, flags: ParamRescanFlags) {
        if role() != ThreadRole::Main {
            self.rescans_off_main.set(self.rescans_off_main.get() + 1);
        }
        if flags.contains(ParamRescanFlags::VALUES) {
            self.value_rescans.set(self.value_rescans.get() + 1);
        }
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

/// The host: log, thread-check, state and params extensions.
struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMain;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostThreadCheck>()
            .register::<HostState>()
            .register::<HostParams>();
    }
}

/// The plugin's CLAP entry, loaded on first use and never unloaded, as most hosts keep plugin
/// binaries loaded. Unloading is not safe yet: nice-plug calls `thread::current()` (in the
/// plugin's own copy of std) on the thread that creates an instance, which registers a pthread-key
/// destructor inside the plugin binary; if the binary is unloaded before that thread ends, the
/// thread crashes on exit (SIGSEGV in `__nptl_deallocate_tsd`). Linking the plugin with
/// `-z nodelete` would make unloading a no-op.
fn load_entry() -> &'static PluginEntry {
    static ENTRY: OnceLock<PluginEntry> = OnceLock::new();
    ENTRY.get_or_init(|| {
        let path = plugin_binary::plugin_binary();
        // SAFETY: the library is this package's own plugin, built by cargo for this test run;
        // loading it runs only its CLAP entry's `init`.
        unsafe { PluginEntry::load(&path) }
            .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}

fn host_info() -> HostInfo {
    HostInfo::new(
        "Lofi Loom clack test host",
        "Lofi Loom",
        "https://lofiloom.example",
        "0.1.0",
    )
    .expect("valid host info")
}

/// A new plugin instance; the calling thread becomes its main thread.
fn new_instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    set_role(ThreadRole::Main);
    PluginInstance::<TestHost>::new(
        |_| HostShared::default(),
        |_| HostMain::default(),
        entry,
        PLUGIN_ID,
        &host_info(),
    )
    .expect("the plugin instantiates")
}

/// Runs the plugin's main-thread callback if it asked for one, as a host's event loop would.
fn pump_main_thread(instance: &mut PluginInstance<TestHost>) {
    let requested =
        instance.access_shared_handler(|h| h.callback_requested.swap(false, Ordering::SeqCst));
    if requested {
        instance.call_on_main_thread_callback();
    }
}

/// Loads a state through the CLAP `state` extension.
fn load_state(instance: &mut PluginInstance<TestHost>, bytes: &[u8]) -> Result<(), StateError> {
    let state: PluginState = instance
        .plugin_handle()
        .get_extension()
        .expect("the plugin has the state extension");
    let result = state.load(&instance.plugin_handle(), &mut &bytes[..]);
    pump_main_thread(instance);
    result
}

/// Saves the state through the CLAP `state` extension.
fn save_state(instance: &mut PluginInstance<TestHost>) -> Vec<u8> {
    let state: PluginState = instance
        .plugin_handle()
        .get_extension()
        .expect("the plugin has the state extension");
    let mut bytes = Vec::new();
    state
        .save(&instance.plugin_handle(), &mut bytes)
        .expect("the state saves");
    bytes
}

// ---------------------------------------------------------------------------------------------
// Exact time
// ---------------------------------------------------------------------------------------------

/// A sample rate and an integer tempo. With half-beat positions every conversion is a ratio of
/// integers, so it is done exactly.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Sample rate in Hz.
    rate: u32,
    /// Tempo in BPM.
    bpm: u32,
}

impl Clock {
    /// The first sample at or after `hb` half-beats from a reference sample:
    /// `ceil(hb/2 × rate × 60 / bpm)`. The sequencer's rule is `ceil(x − 1e-4)`: the same,
    /// because a fractional `x` here is at least `1 / (2 × bpm)` above an integer.
    fn samples(self, hb: i64) -> u64 {
        assert!(hb >= 0, "negative span {hb}");
        let num = i128::from(hb) * i128::from(self.rate) * 60;
        let den = 2 * i128::from(self.bpm);
        assert!(den < 10_000, "tempo too fine for the 1e-4 margin");
        u64::try_from((num + den - 1) / den).expect("fits")
    }

    /// The song position `samples_after` samples after half-beat `hb`, as CLAP fixed-point beats
    /// (rounded to the nearest 2^-31 beat).
    fn beat_bits(self, hb: i64, samples_after: u64) -> i64 {
        let den = 60 * i128::from(self.rate);
        let num = i128::from(hb) * (FIXED_ONE / 2) * den
            + i128::from(samples_after) * i128::from(self.bpm) * FIXED_ONE;
        i64::try_from((2 * num + den).div_euclid(2 * den)).expect("fits")
    }

    /// The same position as CLAP fixed-point seconds.
    fn second_bits(self, hb: i64, samples_after: u64) -> i64 {
        let den = i128::from(self.bpm) * i128::from(self.rate);
        let num = (i128::from(hb) * 30 * i128::from(self.rate)
            + i128::from(samples_after) * i128::from(self.bpm))
            * FIXED_ONE;
        i64::try_from((2 * num + den).div_euclid(2 * den)).expect("fits")
    }

    /// Half-beat `hb` as CLAP fixed-point seconds.
    fn hb_second_bits(self, hb: i64) -> i64 {
        self.second_bits(hb, 0)
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated transport and the audio thread
// ---------------------------------------------------------------------------------------------

/// How the host handles reaching its loop end in the middle of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WrapStyle {
    /// One block, its transport at its first sample; the host jumps back inside it (REAPER).
    InsideBlock,
    /// Two `process()` calls, the second starting at the loop start.
    SplitBlocks,
    /// One `process()` call with a transport event at the wrap sample.
    TransportEvent,
}

/// Where a host loop wrap happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WrapKind {
    /// Exactly on a block boundary (whatever the style).
    Boundary,
    /// Inside a block, by [`WrapStyle::InsideBlock`].
    Inside,
    /// By [`WrapStyle::SplitBlocks`].
    Split,
    /// By [`WrapStyle::TransportEvent`].
    Event,
}

/// A stretch of continuous playback: the model plays the score from `start_hb` at
/// `start_sample` until `end_sample`, where everything sounding is released.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Run sample where it starts.
    start_sample: u64,
    /// Song position there, in half-beats.
    start_hb: i64,
    /// Run sample where it ends (stop, seek or wrap), once known.
    end_sample: Option<u64>,
}

/// One note event as the host received it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Received {
    /// `time` in the block.
    time: u32,
    /// Note-on (true) or note-off.
    on: bool,
    /// Port index.
    port: i16,
    /// Channel.
    channel: i16,
    /// Key.
    key: i16,
    /// Note id.
    note_id: i32,
    /// CLAP velocity, 0–1.
    velocity: f64,
}

/// One `process()` call and what came back.
#[derive(Debug, Clone)]
struct Call {
    /// Run sample of the block's first frame.
    start: u64,
    /// Frames.
    len: u32,
    /// Whether the host reported a playing transport at the block start.
    playing: bool,
    /// The status the plugin returned.
    status: ProcessStatus,
    /// Whether both output channels came back all zeros.
    silent: bool,
    /// Note events, in the order received.
    notes: Vec<Received>,
    /// Events other than notes (the plugin should send none).
    other_events: usize,
}

/// Phase boundaries of the full scenario, in run samples.
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    /// Seek into the host loop.
    loop_seek: u64,
    /// First stop.
    stop: u64,
    /// Playback restarts at beat 5.
    replay: u64,
    /// Second stop.
    final_stop: u64,
}

/// Everything one activation produced.
#[derive(Debug, Default)]
struct Record {
    /// Every `process()` call.
    calls: Vec<Call>,
    /// The playback segments, for the model.
    segments: Vec<Segment>,
    /// Loop wraps: run sample and kind.
    wraps: Vec<(u64, WrapKind)>,
    /// Phase boundaries.
    marks: Marks,
}

/// The host's audio thread: a transport and the buffers, driving a started processor.
struct Driver<'p> {
    /// The plugin's audio processor.
    processor: &'p mut StartedPluginAudioProcessor<TestHost>,
    /// Rate and tempo.
    clock: Clock,
    /// Run sample of the next block.
    now: u64,
    /// Whether the transport plays.
    playing: bool,
    /// Song position `anchor_hb` (half-beats) was at run sample `anchor_sample`.
    anchor_hb: i64,
    /// See `anchor_hb`.
    anchor_sample: u64,
    /// Run sample the transport stopped at (its position stays there).
    stopped_at: u64,
    /// Active host loop, in half-beats.
    loop_hb: Option<(i64, i64)>,
    /// How loop wraps inside a block are handled.
    style: WrapStyle,
    /// Next index into [`BLOCK_CYCLE`].
    cycle: usize,
    /// Output channels, [`MAX_BLOCK`] samples each.
    left: Vec<f32>,
    /// See `left`.
    right: Vec<f32>,
    /// Output port descriptors.
    ports: AudioPorts,
    /// Input events (a mid-block transport event).
    in_events: EventBuffer,
    /// Output events.
    out_events: EventBuffer,
    /// What happened.
    record: Record,
}

impl<'p> Driver<'p> {
    fn new(processor: &'p mut StartedPluginAudioProcessor<TestHost>, clock: Clock) -> Self {
        Driver {
            processor,
            clock,
            now: 0,
            playing: false,
            anchor_hb: 0,
            anchor_sample: 0,
            stopped_at: 0,
            loop_hb: None,
            style: WrapStyle::InsideBlock,
            cycle: 0,
            left: vec![0.0; MAX_BLOCK as usize],
            right: vec![0.0; MAX_BLOCK as usize],
            ports: AudioPorts::with_capacity(2, 1),
            in_events: EventBuffer::with_capacity(4),
            out_events: EventBuffer::with_capacity(1024),
            record: Record::default(),
        }
    }

    /// Ends the current segment, if playing, at the current sample.
    fn end_segment(&mut self) {
        if self.playing {
            let now = self.now;
            let segment = self.record.segments.last_mut().expect("a segment plays");
            segment.end_sample = Some(now);
        }
    }

    /// Starts (or seeks) playback at half-beat `hb` from the next block.
    fn play_from(&mut self, hb: i64) {
        self.end_segment();
        self.playing = true;
        self.anchor_hb = hb;
        self.anchor_sample = self.now;
        self.record.segments.push(Segment {
            start_sample: self.now,
            start_hb: hb,
            end_sample: None,
        });
    }

    /// Stops the transport from the next block; its position stays where it stopped.
    fn stop(&mut self) {
        self.end_segment();
        self.playing = false;
        self.stopped_at = self.now;
    }

    /// Sets or clears the host loop (half-beats).
    fn set_loop(&mut self, loop_hb: Option<(i64, i64)>) {
        self.loop_hb = loop_hb;
    }

    /// The run sample where the playhead reaches the loop end, if it is heading there.
    fn wrap_sample(&self) -> Option<u64> {
        let (_, end_hb) = self.loop_hb?;
        if !self.playing || self.anchor_hb >= end_hb {
            return None;
        }
        Some(self.anchor_sample + self.clock.samples(end_hb - self.anchor_hb))
    }

    /// Jumps from the loop end back to the loop start at run sample `at`.
    fn wrap(&mut self, at: u64, kind: WrapKind) {
        let (start_hb, _) = self.loop_hb.expect("a loop is set");
        let segment = self.record.segments.last_mut().expect("a segment plays");
        segment.end_sample = Some(at);
        self.record.segments.push(Segment {
            start_sample: at,
            start_hb,
            end_sample: None,
        });
        self.anchor_hb = start_hb;
        self.anchor_sample = at;
        self.record.wraps.push((at, kind));
    }

    /// The transport as of run sample `at`, stamped with block time `time`.
    fn transport(&self, at: u64, time: u32) -> TransportEvent {
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        let position_at = if self.playing { at } else { self.stopped_at };
        let after = position_at - self.anchor_sample;
        let beats = self.clock.beat_bits(self.anchor_hb, after);
        let seconds = self.clock.second_bits(self.anchor_hb, after);
        let bar_bits = 4 * (FIXED_ONE as i64);
        let bar_number = beats.div_euclid(bar_bits);
        let (loop_start, loop_end) = self.loop_hb.unwrap_or((0, 0));
        if self.loop_hb.is_some() {
            flags |= TransportFlags::IS_LOOP_ACTIVE;
        }
        TransportEvent {
            header: EventHeader::new_core(time, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_bits(beats),
            song_pos_seconds: SecondsTime::from_bits(seconds),
            tempo: f64::from(self.clock.bpm),
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_bits(loop_start * (FIXED_ONE as i64 / 2)),
            loop_end_beats: BeatTime::from_bits(loop_end * (FIXED_ONE as i64 / 2)),
            loop_start_seconds: SecondsTime::from_bits(self.clock.hb_second_bits(loop_start)),
            loop_end_seconds: SecondsTime::from_bits(self.clock.hb_second_bits(loop_end)),
            bar_start: BeatTime::from_bits(bar_number * bar_bits),
            bar_number: i32::try_from(bar_number).expect("fits"),
            time_signature_numerator: 4,
            time_signature_denominator: 4,
        }
    }

    /// One host block of `len` samples, wrapping at the loop end the way `style` says.
    fn block(&mut self, len: u32) {
        if self.wrap_sample() == Some(self.now) {
            self.wrap(self.now, WrapKind::Boundary);
        }
        let end = self.now + u64::from(len);
        match self.wrap_sample().filter(|&w| w > self.now && w < end) {
            None => self.call(len, None),
            Some(w) => {
                let before = u32::try_from(w - self.now).expect("inside a block");
                match self.style {
                    WrapStyle::InsideBlock => {
                        self.call(len, None);
                        self.wrap(w, WrapKind::Inside);
                    }
                    WrapStyle::SplitBlocks => {
                        self.call(before, None);
                        self.wrap(w, WrapKind::Split);
                        self.call(len - before, None);
                    }
                    WrapStyle::TransportEvent => {
                        // The block's own transport is taken before the wrap moves the anchor.
                        let at_block_start = self.transport(self.now, 0);
                        self.wrap(w, WrapKind::Event);
                        let at_wrap = self.transport(w, before);
                        self.call_with(len, at_block_start, Some(at_wrap));
                    }
                }
            }
        }
    }

    /// One `process()` call of `len` samples with the transport at the current sample.
    fn call(&mut self, len: u32, mid_block: Option<TransportEvent>) {
        let transport = self.transport(self.now, 0);
        self.call_with(len, transport, mid_block);
    }

    /// One `process()` call of `len` samples with the given transport and optional mid-block
    /// transport event.
    fn call_with(
        &mut self,
        len: u32,
        transport: TransportEvent,
        mid_block: Option<TransportEvent>,
    ) {
        let n = len as usize;
        // Non-zero garbage, so the check below sees the plugin write silence.
        self.left[..n].fill(0.25);
        self.right[..n].fill(0.25);
        self.in_events.clear();
        if let Some(event) = &mid_block {
            self.in_events.push(event);
        }
        self.out_events.clear();
        let status = {
            let mut outputs = self.ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only([
                    &mut self.left[..n],
                    &mut self.right[..n],
                ]),
            }]);
            self.processor
                .process(
                    &InputAudioBuffers::empty(),
                    &mut outputs,
                    &self.in_events.as_input(),
                    &mut self.out_events.as_output(),
                    Some(self.now),
                    Some(&transport),
                )
                .expect("process() succeeds")
        };
        let silent = self.left[..n]
            .iter()
            .chain(&self.right[..n])
            .all(|&s| s == 0.0);
        let mut notes = Vec::new();
        let mut other_events = 0;
        for event in self.out_events.iter() {
            let (raw, on) = match event.as_core_event() {
                Some(CoreEventSpace::NoteOn(e)) => (*e.as_raw(), true),
                Some(CoreEventSpace::NoteOff(e)) => (*e.as_raw(), false),
                _ => {
                    other_events += 1;
                    continue;
                }
            };
            notes.push(Received {
                time: raw.header.time,
                on,
                port: raw.port_index,
                channel: raw.channel,
                key: raw.key,
                note_id: raw.note_id,
                velocity: raw.velocity,
            });
        }
        self.record.calls.push(Call {
            start: self.now,
            len,
            playing: transport.flags.contains(TransportFlags::IS_PLAYING),
            status,
            silent,
            notes,
            other_events,
        });
        self.now += u64::from(len);
    }

    /// The next block size of the cycle.
    fn next_len(&mut self) -> u32 {
        let len = BLOCK_CYCLE[self.cycle % BLOCK_CYCLE.len()];
        self.cycle += 1;
        len
    }

    /// Plays cycled blocks until the run reaches sample `target`.
    fn run_until(&mut self, target: u64) {
        while self.now < target {
            let len = self.next_len();
            self.block(len);
        }
    }

    /// Plays cycled blocks for at least `samples` more samples.
    fn run_for(&mut self, samples: u64) {
        self.run_until(self.now + samples);
    }

    /// Plays cycled blocks until `count` more wraps of `kind` have happened.
    fn run_wraps(&mut self, kind: WrapKind, count: usize) {
        let seen = |d: &Self| d.record.wraps.iter().filter(|w| w.1 == kind).count();
        let target = seen(self) + count;
        while seen(self) < target {
            let len = self.next_len();
            self.block(len);
        }
    }

    /// An empty block (clack lets a host send one; nice-plug skips the plugin for it).
    fn empty_block(&mut self) {
        self.block(0);
    }
}

/// Activates the plugin at `clock.rate`, runs `script` on a separate audio thread, then stops
/// processing and deactivates.
fn play(
    instance: &mut PluginInstance<TestHost>,
    clock: Clock,
    script: impl FnOnce(&mut Driver) + Send,
) -> Record {
    let config = PluginAudioConfiguration {
        sample_rate: f64::from(clock.rate),
        min_frames_count: 1,
        max_frames_count: MAX_BLOCK,
    };
    let stopped = instance
        .activate(|_, _| (), config)
        .expect("the plugin activates");
    let (stopped, record) = std::thread::scope(|s| {
        s.spawn(move || {
            set_role(ThreadRole::Audio);
            let mut started = stopped
                .start_processing()
                .expect("the plugin starts processing");
            let record = {
                let mut driver = Driver::new(&mut started, clock);
                script(&mut driver);
                driver.record
            };
            (started.stop_processing(), record)
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    instance.deactivate(stopped);
    pump_main_thread(instance);
    record
}

/// The full transport scenario of one run.
fn full_scenario(d: &mut Driver) {
    let clock = d.clock;
    // ~2.5 phrase loops from the song start (an empty block first, as some hosts send).
    d.empty_block();
    d.play_from(0);
    d.run_until(clock.samples(41));
    // A host loop over beats 2–6; the user seeks into it at beat 3.
    d.set_loop(Some(HOST_LOOP_HB));
    d.play_from(6);
    d.record.marks.loop_seek = d.now;
    d.empty_block();
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
    d.empty_block();
    d.run_for(20_000);
    // Play again after seeking to beat 5, for 13 beats.
    d.play_from(10);
    d.record.marks.replay = d.now;
    d.empty_block();
    d.run_for(clock.samples(26));
    d.stop();
    d.record.marks.final_stop = d.now;
    d.run_for(10_000);
}

/// One phrase and a half from the song start, then a stop.
fn short_scenario(d: &mut Driver) {
    let clock = d.clock;
    d.play_from(0);
    d.run_until(clock.samples(PHRASE_HB + BAR_HB + 3));
    d.stop();
    d.run_for(5_000);
}

// ---------------------------------------------------------------------------------------------
// The model and the checks
// ---------------------------------------------------------------------------------------------

/// A note event on the run's sample timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Heard {
    /// Run sample.
    sample: u64,
    /// Note-on (true) or note-off; offs sort first at equal samples.
    on: bool,
    /// Channel index.
    channel: u8,
    /// Key.
    key: u8,
    /// MIDI velocity (0 for note-offs).
    velocity: u8,
}

/// What the score must sound like over `segments`: within a segment every note whose onset is
/// at or after the segment start plays at `start + ceil(Δbeats × spb)` (notes begun before a
/// start, seek or loop jump are not chased), at equal samples note-offs first then by channel
/// and key; at the segment's end everything still sounding is released, by channel and key.
fn expected(segments: &[Segment], clock: Clock) -> Vec<Heard> {
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
                let on_hb = base + n.start_hb;
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
fn heard(record: &Record, label: &str) -> Vec<Heard> {
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
        assert!(call.silent, "{at}: audio output not silent");
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
fn check_pairing(heard: &[Heard], label: &str) {
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
fn assert_same(actual: &[Heard], expected: &[Heard], label: &str) {
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
fn at_sample(heard: &[Heard], sample: u64) -> Vec<(bool, u8, u8)> {
    heard
        .iter()
        .filter(|h| h.sample == sample)
        .map(|h| (h.on, h.channel, h.key))
        .collect()
}

/// The first note-on of `channel` and `key` at or after run sample `from`.
fn first_on(heard: &[Heard], channel: u8, key: u8, from: u64) -> Option<u64> {
    heard
        .iter()
        .find(|h| h.on && h.channel == channel && h.key == key && h.sample >= from)
        .map(|h| h.sample)
}

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

/// Checks the ports: one stereo audio output, no audio input, one note output, no note input.
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
    assert_eq!(notes.count(&handle, true), 0, "no note input");
    assert_eq!(notes.count(&handle, false), 1, "one note output");
    let mut buffer = NotePortInfoBuffer::new();
    assert!(notes.get(&handle, 0, false, &mut buffer).is_some());
}

/// Reads parameter values through the CLAP `params` extension, by display name.
fn param_values(instance: &mut PluginInstance<TestHost>) -> Vec<(String, f64)> {
    let handle = instance.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    let mut out = Vec::new();
    for index in 0..params.count(&handle) {
        let mut buffer = ParamInfoBuffer::new();
        let info = params
            .get_info(&handle, index, &mut buffer)
            .expect("param info");
        let name = String::from_utf8_lossy(info.name).into_owned();
        let value = params.get_value(&handle, info.id).expect("param value");
        out.push((name, value));
    }
    out
}

fn param(values: &[(String, f64)], name: &str) -> f64 {
    values
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name:?} in {values:?}"))
        .1
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

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

#[test]
fn corrupt_sessions_never_crash_and_keep_the_phrase_or_start_afresh() {
    let entry = load_entry();
    let clock = RUNS[1].0;
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
