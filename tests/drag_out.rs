//! Drag-out end to end on a private X server: the test plays the user's pointer with XTEST
//! and is the drop target (a DAW's side of XDND, written here with x11rb), while
//! `lofi_loom::dragout` is the drag source it would be in the editor.
//!
//! The scene on the 1280×800 screen (no window manager, so the test adds a frame itself):
//! * a "frame" window that is not `XdndAware`, holding a "client" window that is (version 5),
//!   like a DAW's track area under a window manager's decoration;
//! * a "plain" window that is not `XdndAware` anywhere;
//! * the drag starts over the bare root.
//!
//! Timing never decides an outcome: the test waits (with generous time limits) for what the
//! target has seen before it moves on or releases the button, so the source's pointer polling
//! can be early or late without changing the result.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(target_os = "linux")]

#[path = "common/tempdir.rs"]
mod tempdir;
#[path = "common/xvfb.rs"]
mod xvfb;

use lofi_loom::dragout::{self, DragState, FileDrag};
use lofi_loom::midi::export::{self, ExportSettings};
use lofi_loom::music::progression::Progression;
use lofi_loom::music::render::{self, RenderSettings};
use midly::Smf;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempdir::{temp_dir, TempDir};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, PropMode,
    Window, WindowClass, BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, MOTION_NOTIFY_EVENT,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::{COPY_DEPTH_FROM_PARENT, COPY_FROM_PARENT, CURRENT_TIME, NONE};
use xvfb::Xvfb;

/// Longest wait for anything the test waits on.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Where the drag starts: over the bare root.
const START: (i16, i16) = (100, 100);
/// The frame window: (x, y, width, height) on the root.
const FRAME: (i16, i16, u16, u16) = (400, 300, 300, 200);
/// Height of the frame's title strip above the client window.
const TITLE_HEIGHT: u16 = 20;
/// A point over the client (aware) window.
const OVER_CLIENT: (i16, i16) = (550, 400);
/// Another point over the client window.
const ELSEWHERE_ON_CLIENT: (i16, i16) = (650, 470);
/// The plain window: (x, y, width, height) on the root.
const PLAIN: (i16, i16, u16, u16) = (800, 300, 200, 200);
/// A point over the plain (not aware) window.
const OVER_PLAIN: (i16, i16) = (900, 400);
/// A target the test asks for that the source must refuse.
const UNOFFERED_TYPE: &str = "image/png";
/// Tracks in the test's MIDI file: the conductor and chords, bass, melody on three channels.
const EXPECTED_TRACKS: usize = 4;

x11rb::atom_manager! {
    /// The receiver's atoms.
    Atoms: AtomsCookie {
        XdndAware,
        XdndSelection,
        XdndEnter,
        XdndPosition,
        XdndStatus,
        XdndLeave,
        XdndDrop,
        XdndFinished,
        XdndActionCopy,
        TEXT_URI_LIST: b"text/uri-list",
        UNOFFERED: UNOFFERED_TYPE.as_bytes(),
        DROPPED: b"LOFI_LOOM_TEST_DROPPED",
    }
}

/// Everything the drop target saw, in order where it matters.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// Per XdndEnter: (source window, version, whether XdndTypeList is needed, type names).
    enters: Vec<(Window, u32, bool, Vec<String>)>,
    /// Per XdndPosition: (source window, root position, action name).
    positions: Vec<(Window, (i16, i16), String)>,
    /// XdndLeave messages received.
    leaves: usize,
    /// XdndDrop messages received.
    drops: usize,
    /// The `text/uri-list` property read after the drop: (type name, bytes); None if refused.
    uri_list: Option<(String, Vec<u8>)>,
    /// Whether the source refused [`UNOFFERED_TYPE`] (property None).
    unoffered_refused: Option<bool>,
    /// Whether XdndFinished was sent back.
    finished: bool,
    /// Client messages that reached the frame or the plain window (neither is aware).
    stray_messages: usize,
}

/// How the drop target answers XdndPosition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// At once, accepting the drop with XdndActionCopy.
    Accept,
    /// At once, refusing the drop.
    Refuse,
    /// Accepting, but each status only when [`Receiver::answer_one`] allows it.
    OneAtATime,
}

/// The drop target: its windows and the thread that answers for them.
struct Receiver {
    /// What it has seen so far.
    seen: Arc<Mutex<Seen>>,
    /// Tells the thread to stop.
    stop: Arc<AtomicBool>,
    /// How many more XdndStatus answers may be sent; the others wait, in order.
    allowance: Arc<AtomicUsize>,
    /// The thread.
    thread: JoinHandle<()>,
}

impl Receiver {
    /// Creates the windows on `display` and answers XDND on its own thread as `answer` says.
    fn start(display: &str, answer: Answer) -> Receiver {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let allowance = match answer {
            Answer::OneAtATime => 0,
            Answer::Accept | Answer::Refuse => usize::MAX,
        };
        let allowance = Arc::new(AtomicUsize::new(allowance));
        let accept = answer != Answer::Refuse;
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = {
            let display = display.to_owned();
            let flags = (Arc::clone(&stop), Arc::clone(&allowance));
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || receive(&display, accept, &seen, &flags, ready_tx))
        };
        ready_rx
            .recv_timeout(TIMEOUT)
            .expect("the drop target's windows are up");
        Receiver {
            seen,
            stop,
            allowance,
            thread,
        }
    }

    /// Lets one more status go ([`Answer::OneAtATime`]).
    fn answer_one(&self) {
        self.allowance.fetch_add(1, Ordering::SeqCst);
    }

    /// A copy of what it has seen so far.
    fn seen(&self) -> Seen {
        self.seen.lock().expect("the receiver is alive").clone()
    }

    /// Stops the thread and returns what it saw.
    fn finish(self) -> Seen {
        let Receiver {
            seen, stop, thread, ..
        } = self;
        stop.store(true, Ordering::SeqCst);
        thread.join().expect("the receiver thread does not panic");
        let seen = seen.lock().expect("the receiver has stopped");
        seen.clone()
    }
}

/// The receiver thread: creates the scene, then answers XDND until `stop` is set, sending
/// statuses only as far as `allowance` allows.
fn receive(
    display: &str,
    accept: bool,
    seen: &Mutex<Seen>,
    (stop, allowance): &(Arc<AtomicBool>, Arc<AtomicUsize>),
    ready: mpsc::Sender<()>,
) {
    let (conn, screen) = x11rb::connect(Some(display)).expect("connect the receiver");
    let root = conn.setup().roots[screen].root;
    let atoms = Atoms::new(&conn).expect("intern").reply().expect("atoms");
    let window = |parent, (x, y, w, h): (i16, i16, u16, u16)| {
        let id = conn.generate_id().expect("an id");
        let aux = CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            id,
            parent,
            x,
            y,
            w,
            h,
            0,
            WindowClass::INPUT_OUTPUT,
            COPY_FROM_PARENT,
            &aux,
        )
        .expect("create a window");
        conn.map_window(id).expect("map it");
        id
    };
    let frame = window(root, FRAME);
    let client_rect = (0, TITLE_HEIGHT as i16, FRAME.2, FRAME.3 - TITLE_HEIGHT);
    let client = window(frame, client_rect);
    // Not aware: a drag released over it is cancelled.
    window(root, PLAIN);
    conn.change_property32(
        PropMode::REPLACE,
        client,
        atoms.XdndAware,
        AtomEnum::ATOM,
        &[5],
    )
    .expect("set XdndAware");
    conn.get_input_focus().expect("sync").reply().expect("sync");
    ready.send(()).expect("the test is waiting");

    let name = |atom: Atom| -> String {
        let reply = conn.get_atom_name(atom).expect("name").reply();
        String::from_utf8_lossy(&reply.expect("an atom").name).into_owned()
    };
    let send = |to: Window, kind: Atom, data: [u32; 5]| {
        let message = ClientMessageEvent::new(32, to, kind, data);
        conn.send_event(false, to, EventMask::NO_EVENT, message)
            .expect("send");
        conn.flush().expect("flush");
    };
    let mut source = NONE;
    let mut held = std::collections::VecDeque::new();
    while !stop.load(Ordering::SeqCst) {
        while !held.is_empty() && allowance.load(Ordering::SeqCst) > 0 {
            allowance.fetch_sub(1, Ordering::SeqCst);
            if let Some((to, status)) = held.pop_front() {
                send(to, atoms.XdndStatus, status);
            }
        }
        let Some(event) = conn.poll_for_event().expect("the connection holds") else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        let mut seen = seen.lock().expect("the test is alive");
        match event {
            Event::ClientMessage(m) if m.window != client => seen.stray_messages += 1,
            Event::ClientMessage(m) => {
                let data = m.data.as_data32();
                if m.type_ == atoms.XdndEnter {
                    source = data[0];
                    let types = data[2..].iter().filter(|&&t| t != NONE);
                    let types = types.map(|&t| name(t)).collect();
                    seen.enters
                        .push((data[0], data[1] >> 24, data[1] & 1 == 1, types));
                } else if m.type_ == atoms.XdndPosition {
                    let pos = ((data[2] >> 16) as i16, data[2] as i16);
                    seen.positions.push((data[0], pos, name(data[4])));
                    let status = [client, u32::from(accept) | 2, 0, 0, atoms.XdndActionCopy];
                    held.push_back((data[0], status));
                } else if m.type_ == atoms.XdndLeave {
                    seen.leaves += 1;
                } else if m.type_ == atoms.XdndDrop {
                    seen.drops += 1;
                    let (selection, time) = (atoms.XdndSelection, data[2]);
                    conn.convert_selection(
                        client,
                        selection,
                        atoms.TEXT_URI_LIST,
                        atoms.DROPPED,
                        time,
                    )
                    .expect("convert");
                    conn.convert_selection(client, selection, atoms.UNOFFERED, atoms.DROPPED, time)
                        .expect("convert");
                    conn.flush().expect("flush");
                }
            }
            // Refused (property None) leaves `uri_list` unset.
            Event::SelectionNotify(n) if n.target == atoms.TEXT_URI_LIST && n.property != NONE => {
                let reply = conn
                    .get_property(true, client, n.property, AtomEnum::ANY, 0, 1 << 16)
                    .expect("get")
                    .reply()
                    .expect("the dropped data");
                seen.uri_list = Some((name(reply.type_), reply.value));
            }
            Event::SelectionNotify(n) if n.target == atoms.UNOFFERED => {
                seen.unoffered_refused = Some(n.property == NONE);
                // Both answers are in (requests are answered in order): done with the data.
                let took = u32::from(seen.uri_list.is_some());
                send(
                    source,
                    atoms.XdndFinished,
                    [client, took, atoms.XdndActionCopy, 0, 0],
                );
                seen.finished = true;
            }
            _ => {}
        }
    }
}

/// The user's pointer, played with XTEST on a connection of its own.
struct Pointer {
    /// The XTEST connection.
    conn: RustConnection,
    /// The root window.
    root: Window,
}

impl Pointer {
    fn new(display: &str) -> Pointer {
        let (conn, screen) = x11rb::connect(Some(display)).expect("connect the pointer");
        let root = conn.setup().roots[screen].root;
        Pointer { conn, root }
    }

    /// Moves the pointer to `(x, y)` on the root, processed by the server on return.
    fn move_to(&self, (x, y): (i16, i16)) {
        self.fake(MOTION_NOTIFY_EVENT, 0, (x, y));
    }

    /// Moves from `from` to `to` in steps, as a hand would.
    fn glide(&self, from: (i16, i16), to: (i16, i16)) {
        const STEPS: i16 = 12;
        for i in 1..=STEPS {
            let at = |a: i16, b: i16| a + (b - a) * i / STEPS;
            self.move_to((at(from.0, to.0), at(from.1, to.1)));
            // Pacing only, so the source sees intermediate positions; never an assertion.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn press(&self) {
        self.fake(BUTTON_PRESS_EVENT, 1, (0, 0));
    }

    fn release(&self) {
        self.fake(BUTTON_RELEASE_EVENT, 1, (0, 0));
    }

    fn fake(&self, kind: u8, detail: u8, (x, y): (i16, i16)) {
        self.conn
            .xtest_fake_input(kind, detail, CURRENT_TIME, self.root, x, y, 0)
            .expect("fake input");
        // A round trip: the server has processed the input when this returns.
        self.conn
            .get_input_focus()
            .expect("sync")
            .reply()
            .expect("sync");
    }
}

/// The `.mid` bytes of the ii–V–I fixture, rendered and exported as the plugin does.
fn phrase_file() -> Vec<u8> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ii-v-i.json");
    let text = std::fs::read_to_string(fixture).expect("fixture");
    let progression = Progression::from_json(&text).expect("valid fixture");
    let phrase = render::render(&progression, &RenderSettings::neutral());
    export::midi_file(&phrase, &ExportSettings::default())
}

/// Writes the phrase file as `My Phrase.mid` in `dir` (a space, to exercise encoding).
fn write_phrase(dir: &TempDir) -> (PathBuf, Vec<u8>) {
    let path = dir.path().join("My Phrase.mid");
    let bytes = phrase_file();
    std::fs::write(&path, &bytes).expect("write the phrase");
    (path, bytes)
}

/// Polls `check` until it gives a value; panics naming `what` after [`TIMEOUT`].
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for the drag to end and returns how.
fn end_of(drag: &FileDrag) -> DragState {
    wait_for("the drag to end", || {
        Some(drag.state()).filter(|s| *s != DragState::InProgress)
    })
}

/// Waits until the target has heard of the pointer at `pos`.
fn wait_for_position(receiver: &Receiver, pos: (i16, i16)) {
    wait_for("the target to hear the pointer's position", || {
        let seen = receiver.seen();
        (seen.positions.last().map(|p| p.1) == Some(pos)).then_some(())
    });
}

/// The path in a `file://` URI with an empty host, percent-decoded.
fn path_of_uri(uri: &str) -> PathBuf {
    let encoded = uri.strip_prefix("file://").expect("a file URI");
    assert!(encoded.starts_with('/'), "empty host: {uri}");
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(encoded).collect();
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

/// One drag under test on display `x` (which the test keeps, so it outlives all of this): the
/// phrase file, an XDND target answering with `answer`, and the pointer pressed at [`START`]
/// with the drag started from there.
struct Scene {
    receiver: Receiver,
    pointer: Pointer,
    drag: FileDrag,
    path: PathBuf,
    bytes: Vec<u8>,
    /// Bind it (`dir: _dir`) to keep the file until the test ends.
    dir: TempDir,
}

impl Scene {
    fn start(x: &Xvfb, name: &str, answer: Answer) -> Scene {
        let dir = temp_dir(name);
        let (path, bytes) = write_phrase(&dir);
        let receiver = Receiver::start(x.display(), answer);
        let pointer = Pointer::new(x.display());
        pointer.move_to(START);
        pointer.press();
        let drag = dragout::start_file_drag_on(x.display(), &path).expect("the drag starts");
        Scene {
            receiver,
            pointer,
            drag,
            path,
            bytes,
            dir,
        }
    }
}

#[test]
fn a_file_dropped_on_an_aware_window_arrives_as_its_uri() {
    let x = Xvfb::start();
    let Scene {
        receiver,
        pointer,
        drag,
        path,
        bytes,
        dir: _dir,
        ..
    } = Scene::start(&x, "drop", Answer::Accept);
    assert_eq!(drag.state(), DragState::InProgress);
    pointer.glide(START, OVER_CLIENT);
    wait_for_position(&receiver, OVER_CLIENT);
    pointer.release();

    assert_eq!(end_of(&drag), DragState::Dropped { accepted: true });
    let seen = receiver.finish();
    assert_eq!(seen.enters.len(), 1, "{seen:?}");
    let (source, version, type_list, types) = seen.enters[0].clone();
    assert_eq!(version, 5);
    assert!(!type_list, "three types fit in XdndEnter");
    assert_eq!(types, ["text/uri-list", "UTF8_STRING", "text/plain"]);
    for (from, pos, action) in &seen.positions {
        assert_eq!(*from, source, "every message names the source window");
        assert_eq!(action, "XdndActionCopy");
        assert!(
            pos.0 >= FRAME.0 && pos.1 >= FRAME.1 + TITLE_HEIGHT as i16,
            "positions only over the client: {pos:?}"
        );
    }
    assert_eq!((seen.leaves, seen.drops, seen.stray_messages), (0, 1, 0));

    // The exact URI, worked out by hand: the temp dir's name has no characters to encode.
    let (type_name, data) = seen.uri_list.expect("the source served text/uri-list");
    assert_eq!(type_name, "text/uri-list");
    let plain_path = path.to_str().expect("a UTF-8 temp path");
    let expected = format!("file://{}\r\n", plain_path.replace(' ', "%20"));
    assert_eq!(String::from_utf8(data).expect("ASCII"), expected);
    assert!(expected.ends_with("/My%20Phrase.mid\r\n"));
    assert_eq!(expected.trim_end(), dragout::file_uri(&path));
    assert_eq!(
        seen.unoffered_refused,
        Some(true),
        "{UNOFFERED_TYPE} is refused"
    );
    assert!(seen.finished);

    // What a host does next: decode the URI and read the file, which is still there.
    let dropped = path_of_uri(expected.trim_end());
    assert_eq!(dropped, path);
    let read = std::fs::read(&dropped).expect("the dropped file stays on disk");
    assert_eq!(read, bytes);
    let smf = Smf::parse(&read).expect("a valid SMF");
    assert_eq!(smf.tracks.len(), EXPECTED_TRACKS);
}

#[test]
fn releasing_over_a_window_that_is_not_aware_cancels() {
    let x = Xvfb::start();
    let Scene {
        receiver,
        pointer,
        drag,
        path,
        bytes,
        dir: _dir,
        ..
    } = Scene::start(&x, "cancel", Answer::Accept);
    // Over the aware window first, so leaving it is part of the test.
    pointer.glide(START, OVER_CLIENT);
    wait_for_position(&receiver, OVER_CLIENT);
    pointer.glide(OVER_CLIENT, OVER_PLAIN);
    wait_for("the target to hear XdndLeave", || {
        (receiver.seen().leaves == 1).then_some(())
    });
    pointer.release();

    assert_eq!(end_of(&drag), DragState::Cancelled);
    let seen = receiver.finish();
    assert_eq!(seen.enters.len(), 1, "{seen:?}");
    assert_eq!((seen.leaves, seen.drops, seen.stray_messages), (1, 0, 0));
    assert!(seen.uri_list.is_none() && !seen.finished);
    assert_eq!(std::fs::read(&path).expect("the file stays"), bytes);
}

#[test]
fn releasing_over_the_root_without_a_target_cancels() {
    let x = Xvfb::start();
    let Scene {
        receiver,
        pointer,
        drag,
        dir: _dir,
        ..
    } = Scene::start(&x, "root", Answer::Accept);
    pointer.glide(START, (START.0 + 50, START.1 + 50));
    pointer.release();

    assert_eq!(end_of(&drag), DragState::Cancelled);
    let seen = receiver.finish();
    assert!(seen.enters.is_empty() && seen.drops == 0, "{seen:?}");
}

#[test]
fn a_target_that_refuses_gets_leave_instead_of_drop() {
    let x = Xvfb::start();
    let Scene {
        receiver,
        pointer,
        drag,
        dir: _dir,
        ..
    } = Scene::start(&x, "refuse", Answer::Refuse);
    pointer.glide(START, OVER_CLIENT);
    wait_for_position(&receiver, OVER_CLIENT);
    pointer.release();

    assert_eq!(end_of(&drag), DragState::Cancelled);
    // The source sent XdndLeave before it ended; the target may read it a little later.
    wait_for("the target to hear XdndLeave", || {
        (receiver.seen().leaves == 1).then_some(())
    });
    let seen = receiver.finish();
    assert_eq!((seen.enters.len(), seen.leaves, seen.drops), (1, 1, 0));
}

#[test]
fn no_position_is_sent_before_the_last_one_is_answered() {
    let x = Xvfb::start();
    let Scene {
        receiver,
        pointer,
        drag,
        dir: _dir,
        ..
    } = Scene::start(&x, "status", Answer::OneAtATime);
    pointer.glide(START, OVER_CLIENT);
    let first = wait_for("a first position", || {
        receiver.seen().positions.first().map(|p| p.1)
    });
    // The status for `first` is held back: moving on and releasing must not send another.
    pointer.glide(OVER_CLIENT, ELSEWHERE_ON_CLIENT);
    pointer.release();
    assert_eq!(receiver.seen().positions.len(), 1);
    assert_eq!(
        drag.state(),
        DragState::InProgress,
        "it waits for the status"
    );
    receiver.answer_one();

    // That status is for where the pointer was, not where it was released: one more position
    // for the release point, and the drop waits for its status too.
    wait_for("a position for the release point", || {
        (receiver.seen().positions.len() == 2).then_some(())
    });
    assert_eq!(receiver.seen().drops, 0, "no drop on an old status");
    assert_eq!(drag.state(), DragState::InProgress);
    receiver.answer_one();
    assert_eq!(end_of(&drag), DragState::Dropped { accepted: true });
    let seen = receiver.finish();
    let points: Vec<_> = seen.positions.iter().map(|p| p.1).collect();
    assert_eq!(points, [first, ELSEWHERE_ON_CLIENT]);
    assert_eq!((seen.enters.len(), seen.leaves, seen.drops), (1, 0, 1));
}

#[test]
fn a_missing_display_fails_the_drag_without_panicking() {
    let dir = temp_dir("nodisplay");
    let (path, _) = write_phrase(&dir);
    // No server runs on display 50000 (and its TCP port 56000 is closed): the connection
    // fails on the drag thread. (x11rb overflows on numbers above 59535, so not higher.)
    let drag = dragout::start_file_drag_on(":50000", &path).expect("the drag starts");
    match end_of(&drag) {
        DragState::Failed(why) => assert!(why.contains("X display"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}
