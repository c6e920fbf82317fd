pub mod phrase;
pub mod progression;
