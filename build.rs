//! Compiles `proto/` into Rust with protox (a pure-Rust protobuf compiler, so no system
//! `protoc` is needed) and tonic-prost-build. The encoded descriptor set is written next to
//! the generated code so the server can offer gRPC reflection.

use std::{env, fs, path::PathBuf};

const PROTO_ROOT: &str = "proto";
const PROTO_FILES: &[&str] = &[
    "commentguard/v1/comment.proto",
    "commentguard/v1/decision.proto",
    "commentguard/v1/moderation_service.proto",
    "commentguard/v1/review_service.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Cargo would otherwise rerun this script on any change in the package; the protos are
    // its only input.
    println!("cargo:rerun-if-changed={PROTO_ROOT}");

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    // Reflection clients need google/protobuf/timestamp.proto too, so keep the imports.
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(PROTO_FILES)?;

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("commentguard_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure().compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
