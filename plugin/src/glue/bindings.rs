//! The WIT bindings of world `plugin` (`../wit`), generated once for the whole glue.

wit_bindgen::generate!({
    path: "../wit",
    world: "plugin",
    default_bindings_module: "crate::glue::bindings",
});
