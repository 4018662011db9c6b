"""The Hog language: parser, compiler to HogVM bytecode, and a sandboxed VM."""
