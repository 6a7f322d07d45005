"""The direction of numrnn's imports, read from the code by grimp (the graph import-linter's `lint-imports` checks
against the layers contract in pyproject.toml): the library never imports the applications or the command line,
the applications never import the command line, a command module never imports main.py, and no module reaches
itself again through its imports."""
import pytest

grimp = pytest.importorskip("grimp")

ROOT = "numrnn"
APPS, CLI = "numrnn.apps", "numrnn.cli"
#: `python -m numrnn`: the command line's entry point, which runs numrnn.cli.main
ENTRY_POINTS = ("numrnn.__main__",)


def within(module, package):
    return module == package or module.startswith(package + ".")


def is_library(module):
    return not (within(module, APPS) or within(module, CLI) or module in ENTRY_POINTS)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(ROOT, cache_dir=None)


def imports(graph, importer_filter, imported_filter):
    """Every direct import (importer, imported) between modules that pass the two filters."""
    return sorted((importer, imported) for importer in graph.modules if importer_filter(importer)
                  for imported in graph.find_modules_directly_imported_by(importer) if imported_filter(imported))


def test_the_library_never_imports_the_applications_or_the_command_line(graph):
    assert imports(graph, is_library, lambda m: within(m, APPS) or within(m, CLI)) == []


def test_the_applications_never_import_the_command_line(graph):
    assert imports(graph, lambda m: within(m, APPS), lambda m: within(m, CLI)) == []


def test_command_modules_never_import_main(graph):
    """main.py imports the command modules (and dispatches); a command module imports cli/common.py instead."""
    main = "numrnn.cli.main"
    assert imports(graph, lambda m: within(m, CLI) and m != main, lambda m: m == main) == []
    assert {"numrnn.cli.train", "numrnn.cli.models", "numrnn.cli.text", "numrnn.cli.forecast",
            "numrnn.cli.gradcheck"} <= graph.find_modules_directly_imported_by(main)


def strongly_connected_components(graph):
    """Tarjan's algorithm over the direct imports: the sets of modules that reach one another."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            components.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return components


def test_no_import_cycles(graph):
    cycles = [sorted(component) for component in strongly_connected_components(graph) if len(component) > 1]
    assert cycles == []


def test_the_cycle_finder_finds_a_cycle():
    """The check above would see a cycle: two modules importing each other form one component."""
    class TwoModules:
        modules = {"a", "b", "c"}
        edges = {"a": {"b"}, "b": {"a"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert sorted(map(sorted, strongly_connected_components(TwoModules()))) == [["a", "b"], ["c"]]
