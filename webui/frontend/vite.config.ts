import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Built into ../static, which Flask serves: index.html for non-API paths, /assets/… for the bundle.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "../static", emptyOutDir: true, assetsDir: "assets", chunkSizeWarningLimit: 2000 },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/hooks": "http://127.0.0.1:8000" } },
});
