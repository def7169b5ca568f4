from mnist_dash.threads import size_thread_pools, usable_cpus


def test_the_cgroup_quota_caps_the_cpus(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # 1.5 CPUs: two threads may run
    assert usable_cpus(cpu_max) == min(2, usable_cpus(tmp_path / "absent"))
    cpu_max.write_text("50000 100000\n")
    assert usable_cpus(cpu_max) == 1
    cpu_max.write_text("max 100000\n")  # no quota: the affinity mask decides
    assert usable_cpus(cpu_max) == usable_cpus(tmp_path / "absent") >= 1
    cpu_max.write_text("garbage")
    assert usable_cpus(cpu_max) >= 1


def test_pools_default_to_the_usable_cpus_and_the_user_wins():
    environ = {"OMP_NUM_THREADS": "7"}
    assert size_thread_pools(environ, cpus=2) == 2
    assert environ == {"OMP_NUM_THREADS": "7", "TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "2"}
    environ = {}
    size_thread_pools(environ, cpus=1)
    assert environ["TF_NUM_INTEROP_THREADS"] == "1" and environ["TF_NUM_INTRAOP_THREADS"] == "1"
