namespace py
