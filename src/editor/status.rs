//! The status bar: model, timing, the host transport, problems and the last export.

use super::{layout, theme, LoomApp, Snapshot};
use crate::midi::files;
use egui::{vec2, Align, Layout as EguiLayout, Rect, RichText, Sense, Ui, UiBuilder};

impl LoomApp {
    /// Model, timing, problems and the last export, at the bottom.
    pub(super) fn status_bar(&mut self, ui: &mut Ui, snap: &Snapshot, rect: Rect) {
        ui.painter().rect_filled(rect, 0.0, theme::PANEL);
        let status = self.shared.status.clone();
        let inner = rect.shrink2(vec2(layout::MARGIN, 4.0));
        ui.scope_builder(
            UiBuilder::new()
                .max_rect(inner)
                .layout(EguiLayout::top_down(Align::Min)),
            |ui| {
                ui.spacing_mut().item_spacing.y = 2.0;
                ui.horizontal(|ui| {
                    let (dot, text) = match status.source() {
                        Some(source) => (theme::OK, format!("Model: {source}")),
                        None => (theme::MUTED, "Model: loading…".to_owned()),
                    };
                    let (r, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
                    ui.painter().circle_filled(r.center(), 4.0, dot);
                    ui.label(text);
                    let us = status.last_generation_us();
                    if us > 0 {
                        ui.label(
                            RichText::new(format!(
                                "· last phrase written in {:.1} ms",
                                us as f64 / 1000.0
                            ))
                            .color(theme::MUTED),
                        );
                    }
                    let host = &snap.host;
                    let tempo = host.tempo_bpm.map_or("–".to_owned(), |t| format!("{t:.0}"));
                    let (n, d) = host.time_sig.unwrap_or(files::FALLBACK_TIME_SIG);
                    ui.label(
                        RichText::new(format!(
                            "· host {} · {tempo} BPM · {n}/{d}",
                            if host.playing { "playing" } else { "stopped" }
                        ))
                        .color(theme::MUTED),
                    );
                });
                ui.horizontal(|ui| {
                    if let Some(why) = self.shared.params.session.last_error() {
                        ui.label(
                            RichText::new(format!(
                                "The saved project could not be restored ({why}); the last good phrase was kept."
                            ))
                            .color(theme::ERROR),
                        );
                    } else if let Some(error) = status.error() {
                        ui.label(RichText::new(error).color(theme::ERROR));
                    } else {
                        self.outcome_line(ui);
                    }
                });
            },
        );
    }
}
