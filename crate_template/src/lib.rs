// Rendered by pyo3-triage for PyO3 {{ pyo3_version }}: module `{{ module }}`.
// Scenarios with the same Rust side render the same crate and so share one build.
// Old releases built with a new rustc print many warnings; warnings are not failures.
{# A scenario's own crate attributes (`#![deny(warnings)]`) must come first; the allow below
    still wins for the lints it names. Empty for most: the rendered text is then unchanged. -#}
{{ crate_attributes }}#![allow(dead_code, unused_imports, unused_variables)]

use pyo3::prelude::*;

{{ scenario_rust }}
{% if not own_module %}
#[pymodule]
fn {{ module }}({{ era.module_signature }}) -> PyResult<()> {
{%- for name in classes %}
    m.add_class::<{{ name }}>()?;
{%- endfor %}
{%- for name in functions %}
    m.add_function(wrap_pyfunction!({{ name }}, m)?)?;
{%- endfor %}
    Ok(())
}
{%- endif %}
