//! The CLAP test host: loads the BUILT plugin binary through `clack-host` the way a real host
//! does, with the log, thread-check, state, params and gui extensions, and reads and writes
//! its state and parameters. Shared by every test that drives the plugin binary.

// Shared by several test crates; each uses only part of it.
#![allow(dead_code)]

use super::plugin_binary;
use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::{HostState, HostStateImpl, PluginState, StateError};
use clack_extensions::thread_check::{HostThreadCheck, HostThreadCheckImpl};
use clack_host::prelude::*;
use std::cell::Cell;
use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// The plugin's CLAP id.
pub const PLUGIN_ID: &CStr = c"com.lofiloom.lofi-loom";

/// Which host thread the current thread is, for the `thread-check` extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadRole {
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

pub fn set_role(role: ThreadRole) {
    ROLE.with(|r| r.set(role));
}

pub fn role() -> ThreadRole {
    ROLE.with(|r| r.get())
}

/// Host callbacks that any thread may call.
#[derive(Default)]
pub struct HostShared {
    /// The plugin asked for `on_main_thread` (written by any plugin thread).
    pub callback_requested: AtomicBool,
    /// The plugin asked to be restarted.
    pub restart_requested: AtomicBool,
    /// The plugin asked for a parameter flush.
    pub flush_requested: AtomicBool,
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

impl HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Err(HostError::Message("the test window has a fixed size"))
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// Host callbacks of the main thread.
#[derive(Default)]
pub struct HostMain {
    /// `params.rescan` calls asking for values (a loaded state must trigger one).
    pub value_rescans: Cell<u32>,
    /// `params.rescan` calls made off the main thread (must stay 0).
    pub rescans_off_main: Cell<u32>,
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

/// The host: log, thread-check, state, params and gui extensions.
pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMain;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostLog>()
            .register::<HostThreadCheck>()
            .register::<HostState>()
            .register::<HostParams>()
            .register::<HostGui>();
    }
}

/// The plugin's CLAP entry, loaded on first use and never unloaded, as most hosts keep plugin
/// binaries loaded. Unloading is not safe yet: nice-plug calls `thread::current()` (in the
/// plugin's own copy of std) on the thread that creates an instance, which registers a pthread-key
/// destructor inside the plugin binary; if the binary is unloaded before that thread ends, the
/// thread crashes on exit (SIGSEGV in `__nptl_deallocate_tsd`). Linking the plugin with
/// `-z nodelete` would make unloading a no-op.
pub fn load_entry() -> &'static PluginEntry {
    static ENTRY: OnceLock<PluginEntry> = OnceLock::new();
    ENTRY.get_or_init(|| {
        let path = plugin_binary::plugin_binary();
        // SAFETY: the library is this package's own plugin, built by cargo for this test run;
        // loading it runs only its CLAP entry's `init`.
        unsafe { PluginEntry::load(&path) }
            .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}

pub fn host_info() -> HostInfo {
    HostInfo::new(
        "Lofi Loom clack test host",
        "Lofi Loom",
        "https://lofiloom.example",
        "0.1.0",
    )
    .expect("valid host info")
}

/// A new plugin instance; the calling thread becomes its main thread.
pub fn new_instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
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
pub fn pump_main_thread(instance: &mut PluginInstance<TestHost>) {
    let requested =
        instance.access_shared_handler(|h| h.callback_requested.swap(false, Ordering::SeqCst));
    if requested {
        instance.call_on_main_thread_callback();
    }
}

/// Loads a state through the CLAP `state` extension.
pub fn load_state(instance: &mut PluginInstance<TestHost>, bytes: &[u8]) -> Result<(), StateError> {
    let state: PluginState = instance
        .plugin_handle()
        .get_extension()
        .expect("the plugin has the state extension");
    let result = state.load(&instance.plugin_handle(), &mut &bytes[..]);
    pump_main_thread(instance);
    result
}

/// Saves the state through the CLAP `state` extension.
pub fn save_state(instance: &mut PluginInstance<TestHost>) -> Vec<u8> {
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

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// `payload` behind its little-endian `u64` length, as nice-plug frames its CLAP state.
pub fn length_prefixed(payload: &[u8]) -> Vec<u8> {
    let mut bytes = (payload.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

pub fn param_values(instance: &mut PluginInstance<TestHost>) -> Vec<(String, f64)> {
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

pub fn param(values: &[(String, f64)], name: &str) -> f64 {
    values
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name:?} in {values:?}"))
        .1
}

/// The CLAP id of the parameter shown as `name`.
pub fn param_id(instance: &mut PluginInstance<TestHost>, name: &str) -> ClapId {
    let handle = instance.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    for index in 0..params.count(&handle) {
        let mut buffer = ParamInfoBuffer::new();
        let info = params.get_info(&handle, index, &mut buffer).expect("info");
        if info.name == name.as_bytes() {
            return info.id;
        }
    }
    panic!("no parameter named {name}");
}

/// A parameter's value through the CLAP `params` extension.
pub fn param_value(instance: &mut PluginInstance<TestHost>, id: ClapId) -> f64 {
    let handle = instance.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    params.get_value(&handle, id).expect("a value")
}

/// Asks the plugin to render offline, as a host bouncing a track does (before activation): a
/// phrase due at a bar line is then waited for.
pub fn render_offline(instance: &mut PluginInstance<TestHost>) {
    let handle = instance.plugin_handle();
    let render: PluginRender = handle.get_extension().expect("the render extension");
    render
        .set(&handle, RenderMode::Offline)
        .expect("offline rendering is accepted");
}
