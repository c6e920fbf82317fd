//! The editor, opened for real: the BUILT plugin binary (`target/<profile>/deps/liblofi_loom.so`)
//! is loaded through `clack-host` on a private X server (Xvfb, rendering OpenGL with Mesa's
//! llvmpipe), its GUI is embedded through the CLAP `gui` extension in an X11 window this test
//! creates, and an audio thread plays a saved phrase with the transport running.
//!
//! What it pins:
//! * the editor draws a real frame (many distinct colours, not one flat fill), saved as
//!   `target/editor-gui/editor.png` for people to look at;
//! * the Regenerate button is where `editor::layout::REGENERATE` says (its accent colour is
//!   there), and clicking it with XTEST (the pointer a user moves) flips the `regenerate`
//!   parameter as one clean host gesture (begin, a value, end), and a new phrase follows: the
//!   saved phrase loops unchanged until the click, and a bar after it plays other notes;
//! * Regenerate plays the closest of the new seed's candidates (what `Generator::candidates`
//!   chooses), and clicking the first alternative card (`editor::layout::alternative_cards`)
//!   queues exactly that phrase: the session holds its seed and progression, it is a new
//!   history entry, and from the bar after next every bar plays its notes (rendered here from
//!   the saved session); the frame is saved as `target/editor-gui/alternatives.png`;
//! * the window reports the size the project stores (`editor::layout::EDITOR_SIZE` by default).
//!
//! Needs `Xvfb` and Mesa's OpenGL (Debian: xvfb, libgl1-mesa-dri, libglx-mesa0).

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(target_os = "linux")]

#[path = "common/host.rs"]
mod host;
#[path = "common/plugin_binary.rs"]
mod plugin_binary;
#[path = "common/xvfb.rs"]
mod xvfb;

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window as ClapWindow};
use clack_host::events::event_types::{TransportEvent, TransportFlags};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use host::{
    load_entry, load_state, new_instance, param_id, param_value, pump_main_thread, set_role,
    TestHost, ThreadRole,
};
use lofi_loom::decoder::{GenerateParams, Generator, Model, CANDIDATES};
use lofi_loom::editor::layout::{alternative_cards, Layout, REGENERATE};
use lofi_loom::music::knobs::Knobs;
use lofi_loom::music::phrase::Phrase;
use lofi_loom::session::Session;
use lofi_loom::worker::render_session;
use lofi_loom::worker::source::next_seed;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConnectionExt as _, CreateWindowAux, ImageFormat, Window, WindowClass, BUTTON_PRESS_EVENT,
    BUTTON_RELEASE_EVENT, MOTION_NOTIFY_EVENT,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;
use x11rb::{COPY_DEPTH_FROM_PARENT, CURRENT_TIME};
use xvfb::Xvfb;

/// Sample rate of the simulated host.
const RATE: u32 = 48_000;
/// Block size of the simulated host.
const BLOCK: u32 = 512;
/// Host tempo.
const BPM: f64 = 84.0;
/// Where the test puts its host window on the 1280×800 screen.
const ORIGIN: (i16, i16) = (0, 0);
/// Longest wait for anything.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The accent colour of the Regenerate button (`editor::theme::ACCENT`).
const ACCENT: [u8; 3] = [0xf2, 0xa6, 0x79];

/// A 4-bar C Ionian phrase: IV–iii–ii–V with a melody and a hand-made boom-bap groove (kick,
/// snare on 2 and 4, eighth closed hats, an open hat closing bar 4), as a saved session
/// (format 3).
const SESSION_JSON: &str = r#"{"version":3,"seed":7,"progression":{"key":0,"mode":"Ionian","bars":[
{"chord":{"degree":4,"shift":0,"quality":"Major7"},"melody":[{"Note":4},"Hold",{"Note":7},{"Note":9},"Hold",{"Note":7},"Rest",{"Note":4}]},
{"chord":{"degree":3,"shift":0,"quality":"Minor7"},"melody":[{"Note":2},"Hold","Hold",{"Note":4},{"Note":7},"Rest",{"Note":11},"Hold"]},
{"chord":{"degree":2,"shift":0,"quality":"Minor7"},"melody":[{"Note":9},"Hold",{"Note":7},"Hold",{"Note":5},{"Note":4},"Rest",{"Note":2}]},
{"chord":{"degree":5,"shift":0,"quality":"Dominant7"},"melody":[{"Note":2},"Rest",{"Note":5},{"Note":7},"Hold","Hold",{"Note":14},{"Note":12}]}]},
"groove":{"bars":[
{"kick":"X.....x...x.....","snare":"....X.......X...","closed_hat":"x.x.x.x.x.x.x.x."},
{"kick":"X.....x...x..x..","snare":"....X.......X...","closed_hat":"x.x.x.x.x.x.x.x."},
{"kick":"X.....x...x.....","snare":"....X.......X...","closed_hat":"x.x.x.x.x.x.x.x."},
{"kick":"X.....x...x.....","snare":"....X.......X...","closed_hat":"x.x.x.x.x.x.x...","open_hat":"..............x."}]}}"#;

/// The saved state: the session above with a few knobs set, in nice-plug's CLAP framing (the
/// JSON's length as a little-endian u64, then the JSON; the session is a JSON string inside).
fn state_bytes() -> Vec<u8> {
    let state = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "params": {
            "energy": {"f32": 0.35},
            "valence": {"f32": 0.7},
            "swing": {"f32": 20.0},
            "humanize": {"f32": 25.0},
            "bars": {"string": "4"},
            "regen-mode": {"string": "manual"},
            "regenerate": {"bool": false},
            "swap-at": {"string": "next-bar"},
            "key": {"string": "auto"},
            "mode": {"string": "auto"},
        },
        "fields": {"session": serde_json::to_string(SESSION_JSON).expect("a string")},
    });
    let payload = serde_json::to_vec(&state).expect("JSON");
    let mut bytes = (payload.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&payload);
    bytes
}

// ---------------------------------------------------------------------------------------------
// The audio thread
// ---------------------------------------------------------------------------------------------

/// A parameter event the plugin sent to the host.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ParamEvent {
    Begin(ClapId),
    Value(ClapId, f64),
    End(ClapId),
}

/// The transport at run sample `now`: playing from the song start at [`BPM`], 4/4.
fn transport(now: u64) -> TransportEvent {
    let beats = now as f64 * BPM / 60.0 / f64::from(RATE);
    let bar = (beats / 4.0).floor();
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags: TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE
            | TransportFlags::IS_PLAYING,
        song_pos_beats: BeatTime::from_float(beats),
        song_pos_seconds: SecondsTime::from_float(now as f64 / f64::from(RATE)),
        tempo: BPM,
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_float(0.0),
        loop_end_beats: BeatTime::from_float(0.0),
        loop_start_seconds: SecondsTime::from_float(0.0),
        loop_end_seconds: SecondsTime::from_float(0.0),
        bar_start: BeatTime::from_float(bar * 4.0),
        bar_number: bar as i32,
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

/// What the audio thread heard, shared with the test's main thread.
#[derive(Default)]
struct Played {
    /// Set by the main thread to end the audio thread.
    stop: AtomicBool,
    /// Run samples processed so far.
    position: AtomicU64,
    /// Parameter events the plugin sent (the editor's gestures reach the host this way).
    params: Mutex<Vec<ParamEvent>>,
    /// Note-ons: run sample and key.
    note_ons: Mutex<Vec<(u64, u8)>>,
    /// The largest |sample| of the audio output so far, as `f32` bits (for non-negative
    /// floats the bits order as the values do).
    peak: AtomicU32,
    /// Whether any output sample was NaN or infinite.
    not_finite: AtomicBool,
}

/// Plays blocks in real time (roughly) until told to stop, recording what the plugin sends.
fn audio_thread(
    mut processor: StartedPluginAudioProcessor<TestHost>,
    played: Arc<Played>,
) -> StartedPluginAudioProcessor<TestHost> {
    set_role(ThreadRole::Audio);
    let mut left = vec![0.0f32; BLOCK as usize];
    let mut right = vec![0.0f32; BLOCK as usize];
    let mut ports = AudioPorts::with_capacity(2, 1);
    let input = EventBuffer::with_capacity(1);
    let mut output = EventBuffer::with_capacity(1024);
    let mut now = 0u64;
    let block_time = Duration::from_secs_f64(f64::from(BLOCK) / f64::from(RATE));
    let start = Instant::now();
    while !played.stop.load(Ordering::SeqCst) {
        output.clear();
        let transport = transport(now);
        {
            let mut outputs = ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only([&mut left[..], &mut right[..]]),
            }]);
            processor
                .process(
                    &InputAudioBuffers::empty(),
                    &mut outputs,
                    &input.as_input(),
                    &mut output.as_output(),
                    Some(now),
                    Some(&transport),
                )
                .expect("process() succeeds");
        }
        let mut seen = played.params.lock().expect("events");
        let mut notes = played.note_ons.lock().expect("notes");
        for event in output.iter() {
            match event.as_core_event() {
                Some(CoreEventSpace::NoteOn(e)) => {
                    let raw = e.as_raw();
                    notes.push((now + u64::from(raw.header.time), raw.key as u8));
                }
                Some(CoreEventSpace::ParamGestureBegin(e)) => {
                    seen.extend(e.param_id().map(ParamEvent::Begin))
                }
                Some(CoreEventSpace::ParamValue(e)) => {
                    seen.extend(e.param_id().map(|id| ParamEvent::Value(id, e.value())))
                }
                Some(CoreEventSpace::ParamGestureEnd(e)) => {
                    seen.extend(e.param_id().map(ParamEvent::End))
                }
                _ => {}
            }
        }
        drop((seen, notes));
        let block_peak = left
            .iter()
            .chain(&right)
            .fold(0.0f32, |m, x| m.max(x.abs()));
        if left.iter().chain(&right).any(|x| !x.is_finite()) {
            played.not_finite.store(true, Ordering::SeqCst);
        }
        played
            .peak
            .fetch_max(block_peak.to_bits(), Ordering::SeqCst);
        now += u64::from(BLOCK);
        played.position.store(now, Ordering::SeqCst);
        // Keep pace with the wall clock, so the playhead moves as in a DAW.
        let due = start + block_time * (now / u64::from(BLOCK)) as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    processor
}

/// The phrase length the state sets, in bars.
const PHRASE_BARS: u64 = 4;

/// The editor's layout at `w` × `h`.
fn layout_of(w: u16, h: u16) -> Layout {
    Layout::new(egui::vec2(f32::from(w), f32::from(h)))
}

/// The session the plugin saves now.
fn saved_session(instance: &mut PluginInstance<TestHost>) -> Session {
    let bytes = host::save_state(instance);
    let json: serde_json::Value = serde_json::from_slice(&bytes[8..]).expect("JSON");
    let field = json["fields"]["session"]
        .as_str()
        .expect("the session field");
    serde_json::from_str(field).expect("a session")
}

/// The bar (4/4 at [`BPM`]) run sample `sample` falls in.
fn bar_of(sample: u64) -> u64 {
    let samples_per_bar = 4.0 * 60.0 / BPM * f64::from(RATE);
    (sample as f64 / samples_per_bar).floor() as u64
}

/// The keys struck in bar `bar`, sorted.
fn keys_in_bar(note_ons: &[(u64, u8)], bar: u64) -> Vec<u8> {
    let mut keys: Vec<u8> = note_ons
        .iter()
        .filter(|(at, _)| bar_of(*at) == bar)
        .map(|(_, key)| *key)
        .collect();
    keys.sort_unstable();
    keys
}

// ---------------------------------------------------------------------------------------------
// Pixels
// ---------------------------------------------------------------------------------------------

/// An RGB picture.
struct Picture {
    width: u16,
    height: u16,
    /// RGB bytes, row by row.
    rgb: Vec<u8>,
}

impl Picture {
    /// The pixel at (x, y).
    fn at(&self, x: u16, y: u16) -> [u8; 3] {
        let i = (usize::from(y) * usize::from(self.width) + usize::from(x)) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// How many distinct colours it has.
    fn distinct_colours(&self) -> usize {
        let mut colours: Vec<[u8; 3]> = self
            .rgb
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        colours.sort_unstable();
        colours.dedup();
        colours.len()
    }

    /// Writes it as a PNG.
    fn save_png(&self, path: &Path) {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
        let file = std::fs::File::create(path).expect("the PNG file");
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            u32::from(self.width),
            u32::from(self.height),
        );
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("a PNG header");
        writer.write_image_data(&self.rgb).expect("PNG data");
    }
}

/// The screen's pixels in `rect` (root coordinates), as RGB. Xvfb's 24-bit screen stores 32-bit
/// little-endian pixels: blue, green, red, unused.
fn grab(conn: &RustConnection, root: Window, (x, y): (i16, i16), (w, h): (u16, u16)) -> Picture {
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root, x, y, w, h, !0)
        .expect("GetImage request")
        .reply()
        .expect("GetImage reply");
    assert_eq!(image.depth, 24, "a 24-bit screen");
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for px in image.data.chunks_exact(4) {
        rgb.extend_from_slice(&[px[2], px[1], px[0]]);
    }
    Picture {
        width: w,
        height: h,
        rgb,
    }
}

/// Whether two colours are within `tolerance` on every channel.
fn near(a: [u8; 3], b: [u8; 3], tolerance: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance)
}

/// Moves the pointer to `at` (in the host window, logical points = pixels under Xvfb) and clicks
/// the left button, like a user.
fn click(conn: &RustConnection, root: Window, at: egui::Pos2) {
    let (x, y) = (ORIGIN.0 + at.x as i16, ORIGIN.1 + at.y as i16);
    let pause = Duration::from_millis(150);
    conn.xtest_fake_input(MOTION_NOTIFY_EVENT, 0, CURRENT_TIME, root, x, y, 0)
        .expect("XTEST motion");
    conn.flush().expect("flush");
    std::thread::sleep(pause);
    conn.xtest_fake_input(BUTTON_PRESS_EVENT, 1, CURRENT_TIME, root, x, y, 0)
        .expect("XTEST press");
    conn.flush().expect("flush");
    std::thread::sleep(pause);
    conn.xtest_fake_input(BUTTON_RELEASE_EVENT, 1, CURRENT_TIME, root, x, y, 0)
        .expect("XTEST release");
    conn.flush().expect("flush");
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[test]
fn the_editor_draws_and_regenerate_asks_for_a_new_phrase() {
    let xvfb = Xvfb::start();
    // baseview opens its own display connection from $DISPLAY. This test binary has this one
    // test, and no other thread reads the environment while it is set.
    std::env::set_var("DISPLAY", xvfb.display());

    let mut instance = new_instance(load_entry());
    load_state(&mut instance, &state_bytes()).expect("the state loads");
    let regenerate = param_id(&mut instance, "Regenerate");
    let before = param_value(&mut instance, regenerate);

    // Play.
    let config = PluginAudioConfiguration {
        sample_rate: f64::from(RATE),
        min_frames_count: 1,
        max_frames_count: BLOCK,
    };
    let stopped = instance.activate(|_, _| (), config).expect("activates");
    let processor = stopped.start_processing().expect("starts processing");
    let played = Arc::new(Played::default());
    let audio = {
        let played = played.clone();
        std::thread::spawn(move || audio_thread(processor, played))
    };

    // The host window, and the editor embedded in it.
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).expect("connects to Xvfb");
    let root = conn.setup().roots[screen].root;
    let gui: PluginGui = instance
        .plugin_handle()
        .get_extension()
        .expect("gui extension");
    let x11 = GuiConfiguration {
        api_type: GuiApiType::X11,
        is_floating: false,
    };
    assert!(
        gui.is_api_supported(&instance.plugin_handle(), x11),
        "X11 embedding is supported"
    );
    gui.create(&instance.plugin_handle(), x11)
        .expect("the editor is created");
    let size = gui
        .get_size(&instance.plugin_handle())
        .expect("the editor has a size");
    assert_eq!(
        (size.width, size.height),
        lofi_loom::editor::layout::EDITOR_SIZE,
        "the editor opens at the stored size (scale 1 under Xvfb)"
    );
    let (w, h) = (size.width as u16, size.height as u16);
    let parent = conn.generate_id().expect("an id");
    conn.create_window(
        COPY_DEPTH_FROM_PARENT,
        parent,
        root,
        ORIGIN.0,
        ORIGIN.1,
        w,
        h,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(0),
    )
    .expect("CreateWindow");
    conn.map_window(parent).expect("MapWindow");
    conn.flush().expect("flush");
    // SAFETY: `parent` lives until after the editor is destroyed below.
    unsafe {
        gui.set_parent(
            &instance.plugin_handle(),
            ClapWindow::from_x11_handle(parent.into()),
        )
    }
    .expect("the editor embeds");
    gui.show(&instance.plugin_handle())
        .expect("the editor shows");

    // Wait for a drawn frame with the playhead past the start.
    let deadline = Instant::now() + TIMEOUT;
    let button = REGENERATE;
    let probe = (
        (button.min.x + 10.0) as u16,
        ((button.min.y + button.max.y) / 2.0) as u16,
    );
    let picture = loop {
        pump_main_thread(&mut instance);
        std::thread::sleep(Duration::from_millis(250));
        let picture = grab(&conn, root, ORIGIN, (w, h));
        if picture.distinct_colours() > 100 && near(picture.at(probe.0, probe.1), ACCENT, 12) {
            // Give the playhead a moment to move into the phrase, then take the picture.
            std::thread::sleep(Duration::from_millis(2500));
            break grab(&conn, root, ORIGIN, (w, h));
        }
        assert!(
            Instant::now() < deadline,
            "no editor frame within {TIMEOUT:?}: {} colours, {:?} at the Regenerate button",
            picture.distinct_colours(),
            picture.at(probe.0, probe.1)
        );
    };
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/editor-gui/editor.png");
    picture.save_png(&target);
    eprintln!("editor frame saved to {}", target.display());
    assert!(
        picture.distinct_colours() > 100,
        "a real frame has many colours, this one {}",
        picture.distinct_colours()
    );
    assert!(
        near(picture.at(probe.0, probe.1), ACCENT, 12),
        "the Regenerate button is where the layout says"
    );
    // The Sound panel's switch shows Built-in, lit in the accent colour, near the top-left of
    // the sound card (inside its 12-point padding, below the title).
    let sound = layout_of(w, h).sound;
    let switch = ((sound.min.x + 20.0) as u16, (sound.min.y + 40.0) as u16);
    assert!(
        near(picture.at(switch.0, switch.1), ACCENT, 12),
        "the Sound panel shows Built-in lit at {switch:?}, found {:?}",
        picture.at(switch.0, switch.1)
    );

    // Let one whole phrase play: what each of its bars plays is the reference.
    let deadline = Instant::now() + TIMEOUT;
    while bar_of(played.position.load(Ordering::SeqCst)) < PHRASE_BARS + 1 {
        pump_main_thread(&mut instance);
        std::thread::sleep(Duration::from_millis(50));
        assert!(Instant::now() < deadline, "the transport does not move");
    }
    let reference: Vec<Vec<u8>> = {
        let notes = played.note_ons.lock().expect("notes");
        (0..PHRASE_BARS)
            .map(|bar| keys_in_bar(&notes, bar))
            .collect()
    };
    assert!(
        reference.iter().all(|keys| !keys.is_empty()),
        "every bar of the saved phrase plays: {reference:?}"
    );
    // With the editor open, the built-in band plays the phrase into the audio output: well
    // above -40 dBFS, below the limiter's -1 dBFS ceiling, every sample finite.
    let peak = f32::from_bits(played.peak.load(Ordering::SeqCst));
    assert!(
        (0.01..=0.8913).contains(&peak),
        "the band is heard with the editor open: peak {peak}"
    );
    assert!(!played.not_finite.load(Ordering::SeqCst));

    // Click Regenerate: the parameter flips as one gesture.
    played.params.lock().expect("events").clear();
    let clicked_at = played.position.load(Ordering::SeqCst);
    click(&conn, root, button.center());
    let deadline = Instant::now() + TIMEOUT;
    let seen = loop {
        pump_main_thread(&mut instance);
        std::thread::sleep(Duration::from_millis(50));
        let seen: Vec<ParamEvent> = played
            .params
            .lock()
            .expect("events")
            .iter()
            .copied()
            .filter(|e| matches!(e, ParamEvent::Begin(id) | ParamEvent::Value(id, _) | ParamEvent::End(id) if *id == regenerate))
            .collect();
        if seen.iter().any(|e| matches!(e, ParamEvent::End(_))) {
            break seen;
        }
        assert!(
            Instant::now() < deadline,
            "no Regenerate gesture within {TIMEOUT:?}: {seen:?}"
        );
    };
    let flipped = 1.0 - before;
    assert_eq!(
        seen,
        [
            ParamEvent::Begin(regenerate),
            ParamEvent::Value(regenerate, flipped),
            ParamEvent::End(regenerate)
        ],
        "one click, one clean gesture"
    );
    assert_eq!(
        param_value(&mut instance, regenerate),
        flipped,
        "the plugin took the new value"
    );

    // Until the click, the phrase looped unchanged; a bar after it plays new notes: the
    // worker wrote a new phrase and it swapped in at a bar line.
    {
        let notes = played.note_ons.lock().expect("notes");
        for bar in PHRASE_BARS..bar_of(clicked_at) {
            assert_eq!(
                keys_in_bar(&notes, bar),
                reference[(bar % PHRASE_BARS) as usize],
                "bar {bar} repeats the phrase"
            );
        }
    }
    let deadline = Instant::now() + TIMEOUT;
    'new_phrase: loop {
        pump_main_thread(&mut instance);
        std::thread::sleep(Duration::from_millis(100));
        let done = bar_of(played.position.load(Ordering::SeqCst));
        let notes = played.note_ons.lock().expect("notes");
        for bar in bar_of(clicked_at) + 1..done {
            if keys_in_bar(&notes, bar) != reference[(bar % PHRASE_BARS) as usize] {
                break 'new_phrase;
            }
        }
        drop(notes);
        assert!(
            Instant::now() < deadline,
            "no new phrase played within {TIMEOUT:?} of the click"
        );
    }

    // Regenerate wrote the closest of the new seed's candidates; the others are the cards.
    // The decoder, asked the same here, says which phrase each card holds.
    let knobs = Knobs {
        energy: 0.35,
        valence: 0.7,
        swing_pct: 20.0,
        humanize_pct: 25.0,
        bars: PHRASE_BARS as u32,
        ..Knobs::default()
    };
    let model = Model::embedded().expect("the model loads");
    let mut generator = Generator::new(&model).expect("a generator");
    let candidates = generator
        .candidates(&GenerateParams::from_knobs(&knobs, next_seed(7)))
        .expect("candidates");
    let chosen = saved_session(&mut instance);
    assert_eq!(
        chosen.seed,
        candidates.chosen().seed,
        "Regenerate plays the closest candidate"
    );
    let pick = candidates.runners_up()[0].clone();
    // Click the first card: that phrase is queued, swaps in at the next bar line and loops.
    let card = alternative_cards(layout_of(w, h).alternatives, CANDIDATES - 1)[0].center();
    let picked_at = played.position.load(Ordering::SeqCst);
    click(&conn, root, card);
    let deadline = Instant::now() + TIMEOUT;
    let picked = loop {
        pump_main_thread(&mut instance);
        std::thread::sleep(Duration::from_millis(50));
        let s = saved_session(&mut instance);
        if s.seed == pick.seed {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the alternative was not written within {TIMEOUT:?} of the click"
        );
    };
    assert_eq!(picked.progression.as_ref(), Some(&pick.progression));
    let seeds: Vec<u64> = picked.history.iter().map(|e| e.seed).collect();
    assert_eq!(
        &seeds[seeds.len() - 2..],
        [chosen.seed, pick.seed],
        "the pick is a new history entry"
    );
    let mut expected = Phrase::new(8);
    render_session(&picked, &knobs, &mut expected);
    let expected_bars: Vec<Vec<u8>> = (0..PHRASE_BARS)
        .map(|bar| {
            let mut keys: Vec<u8> = expected
                .notes()
                .iter()
                .filter(|n| (n.start_beats / 4.0).floor() as u64 == bar)
                .map(|n| n.key)
                .collect();
            keys.sort_unstable();
            keys
        })
        .collect();
    // Two bars after the click at most (the worker answers within the bar it was asked in),
    // every bar plays the picked phrase's notes.
    let from = bar_of(picked_at) + 2;
    let deadline = Instant::now() + TIMEOUT;
    while bar_of(played.position.load(Ordering::SeqCst)) < from + PHRASE_BARS {
        pump_main_thread(&mut instance);
        std::thread::sleep(Duration::from_millis(50));
        assert!(Instant::now() < deadline, "the transport does not move");
    }
    {
        let notes = played.note_ons.lock().expect("notes");
        for bar in from..from + PHRASE_BARS {
            assert_eq!(
                keys_in_bar(&notes, bar),
                expected_bars[(bar % PHRASE_BARS) as usize],
                "bar {bar} plays the picked alternative"
            );
        }
    }

    // The frame with the cards, for people to look at.
    let cards = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/editor-gui/alternatives.png");
    grab(&conn, root, ORIGIN, (w, h)).save_png(&cards);
    eprintln!(
        "editor frame with alternatives saved to {}",
        cards.display()
    );

    // Close everything down in the order a host does.
    gui.destroy(&instance.plugin_handle());
    played.stop.store(true, Ordering::SeqCst);
    let processor = audio.join().expect("the audio thread ends");
    instance.deactivate(processor.stop_processing());
    pump_main_thread(&mut instance);
    conn.destroy_window(parent).expect("DestroyWindow");
    conn.flush().expect("flush");
    drop(instance);
    // Let the editor's window thread finish with its display connection before the server
    // goes: Xlib ends the process if a connection it still uses breaks.
    std::thread::sleep(Duration::from_secs(1));
    drop(conn);
    drop(xvfb);
}
