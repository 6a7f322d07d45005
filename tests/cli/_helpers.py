"""What the command-line tests share: running main in-process and checking a usage error."""
from numrnn.cli.main import main


def run(capsys, *argv):
    """main(argv) -> (status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def assert_usage_error(result, *fragments):
    status, out, err = result
    assert status == 2, (out, err)
    assert err.startswith("numrnn: error: ") or "error:" in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
