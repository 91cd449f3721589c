/// cnnc's version: `cnnc --version`, and the header comment of every generated file.
public let cnncVersion = "0.11.0"
