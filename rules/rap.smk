# Paper B: the random active path model (cavity method, Monte Carlo, annealing), and MNIST.

RAP = RESULTS / "rap"
READING_NAMES = [m["name"] for m in config["rap"]["readings"]["models"]]
if len(set(READING_NAMES)) != len(READING_NAMES):
    raise WorkflowError(
        f"config key 'rap.readings.models': the names must be unique, got {READING_NAMES}"
    )
MODEL = config["rap"]["model"]
if config["rap"]["finite_size"]["exact_n"] and (MODEL["construction"], MODEL["xi"]) != (
    "network",
    "input",
):
    raise WorkflowError(
        "config key 'rap.finite_size.exact_n': exact-only widths need rap.model with the network "
        f"construction and input signs, got {MODEL['construction']!r} with {MODEL['xi']!r} signs "
        "(give exact_n: [] or config/rap_network.yaml)"
    )
READING_TABLES = ["degrees", "dilution", "critical"]
# priority: the longest jobs at paper scale (finite size, Fig. 4, the sweeps) start first, so that
# the short ones fill the other cores instead of leaving one of them to the end.


wildcard_constraints:
    layer="[123]",
    reading="|".join(READING_NAMES),


rule rap_degrees:
    output:
        RAP / "degrees.parquet",
    log:
        LOGS / "rap" / "degrees.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config_keys(
            "seed",
            "rap.n",
            "rap.p1",
            "rap.p2",
            "rap.diluted_layer",
            "rap.degrees",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_degrees.py"


rule rap_dilution_sweep:
    output:
        RAP / "dilution_layer{layer}.parquet",
    log:
        LOGS / "rap" / "dilution_layer{layer}.log",
    priority: 10
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.n",
            "rap.p1",
            "rap.p2",
            "rap.beta",
            "rap.instances",
            "rap.dilution_sweep.q",
            "rap.bp",
            "rap.mc",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_dilution.py"


rule rap_dilution:
    input:
        dilution=expand(
            RAP / "dilution_layer{layer}.parquet",
            layer=config["rap"]["dilution_sweep"]["layers"],
        ),
    output:
        dilution=RAP / "dilution.parquet",
    log:
        LOGS / "rap" / "dilution.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/concat_tables.py"


rule rap_critical:
    output:
        RAP / "critical.parquet",
    log:
        LOGS / "rap" / "critical.log",
    priority: 20
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.n",
            "rap.p1",
            "rap.diluted_layer",
            "rap.instances",
            "rap.critical",
            "rap.bp",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_critical.py"


rule rap_finite_size:
    output:
        RAP / "finite_size.parquet",
    log:
        LOGS / "rap" / "finite_size.log",
    priority: 30
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.p1",
            "rap.p2",
            "rap.diluted_layer",
            "rap.beta",
            "rap.finite_size",
            "rap.critical.q_max",
            "rap.bp",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_finite_size.py"


rule rap_finite_size_grid:
    output:
        RAP / "finite_size_grid.parquet",
    log:
        LOGS / "rap" / "finite_size_grid.log",
    priority: 10
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.p1",
            "rap.p2",
            "rap.diluted_layer",
            "rap.beta",
            "rap.finite_size",
            "rap.bp",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_finite_size_grid.py"


rule rap_reading:
    output:
        **{t: RAP / "readings" / f"{{reading}}_{t}.parquet" for t in READING_TABLES},
    log:
        LOGS / "rap" / "readings" / "{reading}.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.p1",
            "rap.p2",
            "rap.degrees",
            "rap.readings",
            "rap.critical.q_min",
            "rap.critical.q_max",
            "rap.bp",
            "rap.mc",
        ),
    script:
        "../workflow/scripts/rap_reading.py"


rule rap_readings:
    input:
        **{
            t: expand(
                RAP / "readings" / f"{{reading}}_{t}.parquet", reading=READING_NAMES
            )
            for t in READING_TABLES
        },
    output:
        **{t: RAP / f"readings_{t}.parquet" for t in READING_TABLES},
    log:
        LOGS / "rap" / "readings.log",
    group:
        "tables"
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow/scripts/concat_tables.py"


rule rap_annealing:
    output:
        RAP / "annealing.parquet",
    log:
        LOGS / "rap" / "annealing.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.n",
            "rap.p1",
            "rap.p2",
            "rap.diluted_layer",
            "rap.annealing",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_annealing.py"


rule rap_low_temperature:
    output:
        RAP / "low_temperature.parquet",
    log:
        LOGS / "rap" / "low_temperature.log",
    conda:
        "../envs/prunephase.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        config=config_keys(
            "seed",
            "rap.n",
            "rap.p1",
            "rap.p2",
            "rap.diluted_layer",
            "rap.annealing.q",
            "rap.low_temperature",
            "rap.bp",
            "rap.mc",
            "rap.model",
        ),
    script:
        "../workflow/scripts/rap_low_temperature.py"


rule rap_activations:
    output:
        RAP / "activations.parquet",
    log:
        LOGS / "rap" / "activations.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        config=config_keys("seed", "rap.activations"),
    script:
        "../workflow/scripts/rap_activations.py"


rule rap_redundancy:
    input:
        mnist=rules.mnist.output[0],
    output:
        RAP / "mnist_redundancy.parquet",
    log:
        LOGS / "rap" / "mnist_redundancy.log",
    conda:
        "../envs/prunephase.yaml"
    threads: 4
    resources:
        gpu=GPU_JOB,
        mem_mb=4000,
        runtime=60,
    params:
        config=config_keys("seed", "device", "rap.redundancy"),
    script:
        "../workflow/scripts/rap_redundancy.py"
