//! The header: title, Regenerate, the regenerate mode, history and export.

use super::{controls, layout, theme, LoomApp, Snapshot};
use egui::{
    pos2, Align, Align2, Button, CornerRadius, Layout as EguiLayout, Rect, RichText, Ui, UiBuilder,
};
use nice_plug::prelude::ParamSetter;

impl LoomApp {
    /// Title, Regenerate, regenerate mode, history, seed; export and drag on the right.
    pub(super) fn header(
        &mut self,
        ui: &mut Ui,
        setter: &ParamSetter,
        snap: &Snapshot,
        rect: Rect,
    ) {
        let params = self.shared.params.clone();
        ui.painter().text(
            pos2(rect.left() + layout::MARGIN + 2.0, rect.center().y),
            Align2::LEFT_CENTER,
            "Lofi Loom",
            theme::big(22.0),
            theme::TEXT,
        );
        let regenerate = layout::regenerate_rect().translate(rect.min.to_vec2());
        let button = Button::new(
            RichText::new("Regenerate")
                .color(theme::ON_ACCENT)
                .strong()
                .size(16.0),
        )
        .fill(theme::ACCENT)
        .corner_radius(CornerRadius::same(8));
        let response = ui
            .put(regenerate, button)
            .on_hover_text("Write a new phrase with a new seed");
        if response.clicked() {
            controls::flip(&mut self.gestures, setter, &params.regenerate);
        }

        let left = Rect::from_min_max(
            pos2(regenerate.right() + 14.0, rect.top()),
            pos2(rect.right() - layout::MARGIN, rect.bottom()),
        );
        ui.scope_builder(
            UiBuilder::new()
                .max_rect(left)
                .layout(EguiLayout::left_to_right(Align::Center)),
            |ui| {
                ui.label(RichText::new("New phrases:").color(theme::MUTED));
                controls::enum_combo(
                    ui,
                    &mut self.gestures,
                    setter,
                    &params.regenerate_mode,
                    132.0,
                )
                .on_hover_text("When a new phrase is written without pressing Regenerate");
                ui.add_space(8.0);
                self.history(ui);
                ui.with_layout(EguiLayout::right_to_left(Align::Center), |ui| {
                    self.export_controls(ui, snap);
                });
            },
        );
    }
}
