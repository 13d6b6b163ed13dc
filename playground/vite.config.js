import kiln from '@kiln/vite'

export default {
  plugins: [kiln()],
  build: { target: 'esnext' },
  preview: { host: '127.0.0.1', port: 4173 },
  server: { host: '127.0.0.1' },
}
