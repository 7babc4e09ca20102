//! The page's panels, one per file: toolbar, status banners, details, metrics, legends.

pub mod details;
pub mod legend;
pub mod metrics;
pub mod status;
pub mod toolbar;
