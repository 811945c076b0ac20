// Progressive enhancement for the server-rendered console: charts (Chart.js, vendored) and the detail drawer.
// Every page works without this script; it only draws the canvases and adds keyboard handling.
(function () {
    "use strict";

    const percent = (value, decimals) => (value * 100).toFixed(decimals ?? 1) + "%";
    const thousands = value => Number(value).toLocaleString("en-US");

    function drawCharts() {
        if (typeof Chart === "undefined") {
            return;
        }
        document.querySelectorAll("canvas[data-chart]").forEach(canvas => {
            const config = JSON.parse(canvas.getAttribute("data-chart"));
            const format = config.format || "number";
            delete config.format;
            const tick = format === "percent" ? v => percent(v, 1) : v => thousands(v);
            config.options = config.options || {};
            config.options.responsive = true;
            config.options.maintainAspectRatio = false;
            config.options.animation = false;
            const valueAxis = config.options.indexAxis === "y" ? "x" : "y";
            config.options.scales = config.options.scales || {};
            config.options.scales[valueAxis] = Object.assign({ ticks: { callback: tick } }, config.options.scales[valueAxis]);
            config.options.plugins = Object.assign({
                tooltip: {
                    callbacks: {
                        label: ctx => {
                            const raw = ctx.raw;
                            const text = Array.isArray(raw) ? "[" + tick(raw[0]) + ", " + tick(raw[1]) + "]" : tick(raw && raw.y !== undefined ? raw.y : raw);
                            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + text;
                        }
                    }
                }
            }, config.options.plugins);
            const chart = new Chart(canvas, config);
            canvas.setAttribute("data-chart-drawn", "true");
            canvas.chart = chart;
        });
        document.documentElement.setAttribute("data-charts-ready", "true");
    }

    function enhanceDrawer() {
        const drawer = document.querySelector("[data-drawer]");
        if (!drawer) {
            return;
        }
        const close = () => {
            const link = drawer.querySelector("[data-drawer-close-link]");
            window.location.href = link ? link.getAttribute("href") : "/console/experiments";
        };
        document.addEventListener("keydown", e => { if (e.key === "Escape") { close(); } });
        document.querySelectorAll("[data-drawer-close]").forEach(el => el.addEventListener("click", close));
        drawer.setAttribute("tabindex", "-1");
        drawer.focus();
    }

    function enhanceVariants() {
        // "Remove" asks nothing and "Add variant" posts the form without validating: the server re-renders the rows.
        document.querySelectorAll("[data-no-validate]").forEach(b => b.setAttribute("formnovalidate", ""));
    }

    document.addEventListener("DOMContentLoaded", () => {
        drawCharts();
        enhanceDrawer();
        enhanceVariants();
    });
})();
