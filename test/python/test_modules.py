"""The wrapper's modules stand on their own: each imports every name it uses from another module. Joined into
one program (scripts/embedWrapper.mjs) every name is a global, so a forgotten `from .module import` would go
unseen there and break only the tests that import the module; this finds it at once, for every module."""
import ast
import builtins
import importlib
import os
import sys
import unittest

WRAPPER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core", "remote", "wrapper")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(WRAPPER_DIR))

MODULES = sorted(name[:-3] for name in os.listdir(WRAPPER_DIR) if name.endswith(".py") and name != "__init__.py")


def bound_names(tree):
    """Every name the module binds anywhere: imports, definitions, assignments, arguments, handlers."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def unbound_names(source):
    tree = ast.parse(source)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return sorted(used - bound_names(tree) - set(dir(builtins)))


class ModuleTests(unittest.TestCase):
    def test_there_are_modules(self):
        self.assertGreaterEqual(len(MODULES), 8, MODULES)

    def test_each_module_imports_every_name_it_uses(self):
        for name in MODULES:
            with open(os.path.join(WRAPPER_DIR, name + ".py")) as handle:
                self.assertEqual(unbound_names(handle.read()), [], "%s.py uses names it does not import" % name)

    def test_the_check_sees_a_forgotten_import(self):
        self.assertEqual(unbound_names("def f():\n    return note(SPEC)\n"), ["SPEC", "note"])
        self.assertEqual(unbound_names("from .x import note\ndef f(a):\n    return note(a)\n"), [])

    def test_each_module_imports_as_part_of_the_package(self):
        for name in MODULES:
            importlib.import_module("wrapper." + name)


if __name__ == "__main__":
    unittest.main()
