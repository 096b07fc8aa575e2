pub mod context;
pub mod dockerfile;
pub mod manifest;
