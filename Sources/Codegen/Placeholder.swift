import ShapeCheck
