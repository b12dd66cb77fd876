// Search-result snippets without raw TeX. Sphinx builds a snippet from the text of the page it
// fetches, where a formula is still its TeX source (MathJax typesets it only on the page itself),
// so a snippet read "\(\mathrm{Loss}(a) = \frac{\sigma^2}{2}...\)". Before the text is taken, each
// formula is replaced by a plain reading of it: delimiters dropped, Greek letters and common
// symbols as Unicode, \mathrm{x}/\text{x} as x, \frac{p}{q} as p/q, single-character sub- and
// superscripts as Unicode where one exists. Only the snippets change, not the index or the pages.
(function () {
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", varepsilon: "ε", epsilon: "ε", eta: "η",
    theta: "θ", lambda: "λ", mu: "μ", rho: "ρ", sigma: "σ", tau: "τ", varphi: "φ", phi: "φ",
    psi: "ψ", omega: "ω", Delta: "Δ", Sigma: "Σ", Lambda: "Λ", Omega: "Ω", Phi: "Φ",
    infty: "∞", to: "→", approx: "≈", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠",
    cdot: "·", times: "×", pm: "±", partial: "∂", nabla: "∇", sum: "∑", int: "∫", in: "∈",
    ll: "≪", gg: "≫", sim: "~", propto: "∝", ln: "ln", log: "log", exp: "exp", dots: "…",
    ldots: "…", cdots: "⋯", quad: " ", qquad: " ", dot: "", top: "ᵀ", mid: "|",
  };
  const SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷",
                "8": "⁸", "9": "⁹", "*": "*", "-": "⁻", "+": "⁺", "n": "ⁿ", "T": "ᵀ", "'": "′" };
  const SUB = { "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇",
                "8": "₈", "9": "₉", "k": "ₖ", "n": "ₙ", "t": "ₜ", "h": "ₕ", "i": "ᵢ", "j": "ⱼ" };

  function plain(tex) {
    let s = tex.trim().replace(/^\\[([]|\\[)\]]$/g, "");
    for (let i = 0; i < 3; i++) {  // nested groups
      s = s.replace(/\\(?:mathrm|text|mathbf|mathcal|operatorname|boldsymbol|mathbb)\s*\{([^{}]*)\}/g, "$1")
           .replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)")
           .replace(/\\sqrt\s*\{([^{}]*)\}/g, "√($1)");
    }
    s = s.replace(/\\(?:left|right|big|Big|bigl|bigr|Bigl|Bigr)\b\s*/g, "")
         .replace(/\\([A-Za-z]+)/g, (m, name) => (name in SYMBOLS ? SYMBOLS[name] : name))
         .replace(/\\[,;:! ]/g, " ")
         .replace(/\^(?:\{([0-9*+\-nT'])\}|([0-9*+\-nT'])(?![0-9]))/g, (m, a, b) => SUP[a || b])
         .replace(/_(?:\{([0-9knthij])\}|([0-9knthij])(?![0-9A-Za-z]))/g, (m, a, b) => SUB[a || b])
         .replace(/([_^])\{([^{}]*)\}/g, "$1($2)")
         .replace(/[{}]/g, "").replace(/\s+/g, " ");
    return s.trim();
  }

  function patch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.plainMath) return;
    const original = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => { el.textContent = " " + plain(el.textContent) + " "; });
      return original(doc.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.plainMath = true;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", patch);
  else patch();
})();
